"""Recording: contexts, observations, vehicles and sightings over the API
and the recording pages, bulk import, versions and moderation."""
