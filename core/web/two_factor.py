"""TWO_FACTOR_REQUIRED_FOR_OWNERS: an owner of any workspace without two-factor sign-in
is sent to set it up before anything else (the setting is off by default)."""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.shortcuts import redirect

from core.models import Membership, Role

# Where such an owner may still go: setting it up, signing out, static files.
ALLOWED_PREFIXES = ("/accounts/", "/logout/", "/static/", "/healthz", "/api/", "/hooks/")


def owners_need_two_factor(get_response):
    def middleware(request):
        if (
            settings.TWO_FACTOR_REQUIRED_FOR_OWNERS
            and request.user.is_authenticated
            and not request.path.startswith(ALLOWED_PREFIXES)
            and _owner_without_two_factor(request.user)
        ):
            return redirect("mfa_activate_totp")
        return get_response(request)

    return middleware


def _owner_without_two_factor(user):
    owner = Membership.objects.filter(user=user, role=Role.OWNER).exists()
    return (
        owner and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    )
