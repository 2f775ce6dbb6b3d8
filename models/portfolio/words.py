"""Word lists for names in the synthetic portfolio (all invented)."""

ADJECTIVES = (
    "Bright", "Silver", "Northern", "Golden", "Blue", "Quiet", "Rapid", "Harbor", "Maple", "Summit",
    "Cedar", "Urban", "Coastal", "Red", "Green", "Little", "Grand", "Prairie", "Iron", "Willow",
    "Crescent", "Lucky", "Evergreen", "Sunset", "Atlas", "Pioneer", "Copper", "Velvet", "Orchard", "Beacon",
)
NOUNS = (
    "Fox", "Lantern", "Anchor", "Sparrow", "Oak", "River", "Stone", "Meadow", "Harvest", "Bridge",
    "Compass", "Falcon", "Garden", "Hive", "Kite", "Pine", "Ridge", "Tide", "Vista", "Wren",
    "Arrow", "Bloom", "Canyon", "Ember", "Forge", "Grove", "Haven", "Juniper", "Loom", "Nest",
)
SUFFIXES = ("Ltd", "LLC", "Inc", "Co", "GmbH", "Group", "Trading", "Studio", "Collective", "Partners")
FIRST_NAMES = (
    "Amelia", "James", "Olivia", "Noah", "Sofia", "Liam", "Maya", "Lucas", "Chloe", "Ethan",
    "Hannah", "Mateo", "Aisha", "Daniel", "Ingrid", "Ravi", "Elena", "Tomas", "Grace", "Yusuf",
    "Clara", "Felix", "Nora", "Omar", "Priya", "Samuel", "Zoe", "Marco", "Lena", "Kenji",
)
LAST_NAMES = (
    "Okafor", "Lindqvist", "Moreau", "Fischer", "Patel", "Garcia", "Novak", "Brennan", "Rossi", "Tanaka",
    "Kowalski", "Haddad", "Silva", "Jensen", "Murphy", "Schmidt", "Dubois", "Ivanova", "Chen", "Walker",
    "Nakamura", "Costa", "Bauer", "Ahmed", "Quinn", "Varga", "Larsen", "Romero", "Byrne", "Weiss",
)
CITIES = {
    "US": ("Austin", "Denver", "Portland", "Columbus", "Raleigh"),
    "GB": ("Leeds", "Bristol", "Manchester", "Glasgow", "Brighton"),
    "CA": ("Toronto", "Calgary", "Halifax", "Ottawa", "Victoria"),
    "DE": ("Leipzig", "Hamburg", "Cologne", "Munich", "Freiburg"),
    "FR": ("Lyon", "Nantes", "Lille", "Bordeaux", "Toulouse"),
    "NL": ("Utrecht", "Rotterdam", "Eindhoven", "Groningen", "Leiden"),
    "AU": ("Brisbane", "Perth", "Adelaide", "Hobart", "Geelong"),
    "IE": ("Cork", "Galway", "Limerick", "Dublin", "Waterford"),
    "ES": ("Valencia", "Seville", "Bilbao", "Malaga", "Zaragoza"),
    "IT": ("Turin", "Bologna", "Verona", "Naples", "Florence"),
}
NEWS_OUTLETS = ("The Business Ledger", "Metro Daily", "Consumer Watch", "Trade Journal", "City Courier")
