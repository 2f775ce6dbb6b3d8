"""Similar past cases: the case profile, the library of decided cases, and the search for one case."""
