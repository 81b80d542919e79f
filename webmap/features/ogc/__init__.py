"""OGC API – Features for GIS clients: exactly the collections one may see on the map."""
