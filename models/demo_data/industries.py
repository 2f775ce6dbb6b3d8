"""Merchant categories (MCC) with the risk profile each carries.

``risk`` shifts the log-odds of a 12-month credit loss; ``lag`` is the typical
days between charge and fulfilment (future-delivery exposure); ``ticket`` the
typical average transaction in USD; ``refund`` the typical refund rate.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Industry:
    mcc: str
    name: str
    weight: float
    risk: float
    ticket: float
    refund: float
    lag: float
    cogs: float
    products: tuple[str, ...]


INDUSTRIES: tuple[Industry, ...] = (
    Industry(
        "5411",
        "Grocery stores",
        8,
        -0.6,
        42,
        0.010,
        0,
        0.72,
        ("fresh produce", "packaged foods", "household goods"),
    ),
    Industry(
        "5812",
        "Restaurants",
        10,
        0.0,
        38,
        0.008,
        0,
        0.35,
        ("dine-in meals", "catering", "takeaway"),
    ),
    Industry(
        "5814",
        "Fast food",
        6,
        -0.3,
        14,
        0.006,
        0,
        0.33,
        ("burgers", "coffee and pastries", "salads"),
    ),
    Industry(
        "5651",
        "Clothing stores",
        9,
        0.2,
        68,
        0.060,
        3,
        0.50,
        ("apparel", "footwear", "accessories"),
    ),
    Industry(
        "5732",
        "Electronics stores",
        6,
        0.3,
        240,
        0.040,
        4,
        0.70,
        ("headphones", "laptops", "smart home devices"),
    ),
    Industry(
        "5999",
        "Miscellaneous retail",
        8,
        0.1,
        55,
        0.030,
        3,
        0.55,
        ("gifts", "home decor", "craft supplies"),
    ),
    Industry("5977", "Cosmetics stores", 4, 0.2, 48, 0.035, 3, 0.45, ("skincare", "fragrance", "make-up")),
    Industry(
        "5712",
        "Furniture stores",
        4,
        0.5,
        620,
        0.030,
        45,
        0.55,
        ("sofas", "custom tables", "mattresses"),
    ),
    Industry(
        "7372",
        "Software and SaaS",
        7,
        -0.1,
        95,
        0.015,
        15,
        0.20,
        ("subscriptions", "licences", "support plans"),
    ),
    Industry(
        "7997",
        "Clubs and gyms",
        4,
        0.6,
        60,
        0.020,
        30,
        0.30,
        ("memberships", "personal training", "classes"),
    ),
    Industry(
        "8299",
        "Schools and courses",
        4,
        0.7,
        850,
        0.020,
        90,
        0.30,
        ("online courses", "bootcamps", "tutoring packages"),
    ),
    Industry(
        "4722",
        "Travel agencies",
        4,
        1.1,
        1150,
        0.050,
        120,
        0.80,
        ("package holidays", "flights", "cruises"),
    ),
    Industry(
        "7922",
        "Event tickets",
        3,
        1.2,
        140,
        0.030,
        100,
        0.65,
        ("concert tickets", "festival passes", "theatre tickets"),
    ),
    Industry(
        "5968",
        "Subscription boxes",
        4,
        0.9,
        35,
        0.050,
        20,
        0.55,
        ("snack boxes", "beauty boxes", "book boxes"),
    ),
    Industry(
        "8011",
        "Medical practices",
        5,
        -0.7,
        180,
        0.005,
        0,
        0.25,
        ("consultations", "diagnostics", "treatments"),
    ),
    Industry(
        "7011",
        "Hotels and lodging",
        4,
        0.4,
        320,
        0.020,
        35,
        0.40,
        ("room bookings", "event spaces", "packages"),
    ),
)

COUNTRIES: tuple[tuple[str, float, float], ...] = (
    # code, weight, risk shift
    ("US", 45, 0.0),
    ("GB", 12, 0.0),
    ("CA", 8, -0.1),
    ("DE", 8, -0.15),
    ("FR", 6, 0.05),
    ("NL", 4, -0.1),
    ("AU", 5, 0.0),
    ("IE", 3, 0.05),
    ("ES", 4, 0.15),
    ("IT", 5, 0.2),
)
