"""Logging in with the e-mail address or the username, whatever their case.

New accounts register with their e-mail address as username (lower-cased); people type it
as they remember it ("Anna@Example.se"), and older accounts have a username and an e-mail
address of their own. Django's ModelBackend matches the username exactly; this one matches
it case-insensitively and, when no username matches, the one account whose e-mail address
is the one typed (none when two accounts share it: it would be a guess).

Both backends here refuse a correct password where the settings close password sign-in
for the account's kind (grants.access.may_sign_in_with_password)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


def password_allowed(user):
    """The settings' rule for this account's kind (checked at sign-in only, not on every
    request that restores a session: that would cost a query per request)."""
    from grants.access import may_sign_in_with_password

    return bool(may_sign_in_with_password(user))


class UsernameBackend(ModelBackend):
    """Django's own matching of the username, with the password rules of the settings."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        return user if user is not None and password_allowed(user) else None


class EmailOrUsernameBackend(UsernameBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        username = username.strip()
        user = self._unique(User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": username}))
        if user is None:
            user = self._unique(User.objects.filter(email__iexact=username))
        if user is None:
            # As ModelBackend does: hash the password anyway, so that the time taken does
            # not tell whether the account exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user) and password_allowed(user):
            return user
        return None

    @staticmethod
    def _unique(users):
        found = list(users[:2])
        return found[0] if len(found) == 1 else None
