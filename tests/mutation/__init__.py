"""A planted-bug (mutation) check: realistic bugs applied one at a time to a copy of the tree."""
