"""Data and specs: dataset specs, validated datasets, value formats, the training population's quantiles and the credit policy (grades, bands, hard stops)."""
