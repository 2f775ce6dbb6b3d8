import numpy as np
import pandas as pd

from models.data.spec import parse_spec
from models.learning.features import OTHER, FeatureEncoder

SPEC = parse_spec(
    "name: t\nlabel: {column: y, positive: [1], negative: [0]}\nnumeric: [n]\ncategorical: [c]\n", "t"
)


def test_categories_keep_the_most_frequent_and_pool_the_rest():
    train = pd.DataFrame({"n": [1.0, 2.0, np.nan, 4.0], "c": ["a", "a", "b", None]})
    encoder = FeatureEncoder.fit(SPEC, train, max_categories=1)
    assert encoder.categories == {"c": ["a", OTHER]}
    x, unseen = encoder.transform(pd.DataFrame({"n": [5.0, np.nan, 1.0, 2.0], "c": ["a", "b", "zz", None]}))
    np.testing.assert_array_equal(x[:, 1], np.array([0, 1, 1, np.nan], dtype=np.float32))
    assert np.isnan(x[1, 0]) and x[0, 0] == 5.0
    assert unseen == {"c": 2}
    assert encoder.feature_types == ["q", "c"]


def test_round_trip_through_json():
    encoder = FeatureEncoder.fit(SPEC, pd.DataFrame({"n": [1.0], "c": ["a"]}))
    assert FeatureEncoder.from_dict(encoder.to_dict()) == encoder
