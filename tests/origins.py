"""Two addresses of one site, as a clearnet name and a Tor onion service serve it, both reached
on 127.0.0.1 by the Host they name (no test starts tor: it cannot bootstrap here)."""

CLEARNET = "petitions.example"
ONION = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"  # 56 characters, as v3's
CLEARNET_URL = f"https://{CLEARNET}"
ONION_URL = f"http://{ONION}"
# Allowed, but none of the site's addresses: it gets the primary's links.
OTHER_HOST = "localhost"


def serve_at_both(settings) -> None:
    """What SITE_URLS=https://petitions.example,http://<onion> gives the settings."""
    settings.SITE_URL = CLEARNET_URL
    settings.SITE_URLS = [CLEARNET_URL, ONION_URL]
    settings.ALLOWED_HOSTS = ["testserver", OTHER_HOST, CLEARNET, ONION]
