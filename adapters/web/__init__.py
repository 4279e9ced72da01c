"""The web portal: the community's lessons, waiting questions, health and digests, server-rendered."""
