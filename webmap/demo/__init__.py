"""The fictional demo town: loading it, its people and its standing shares."""
