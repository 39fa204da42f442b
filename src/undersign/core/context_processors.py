from django.conf import settings


def site(request):
    # Nothing per user here: public pages must stay cacheable by a shared cache.
    return {"SITE_NAME": settings.SITE_NAME, "K_ANONYMITY": settings.K_ANONYMITY}
