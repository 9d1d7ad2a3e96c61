"""allauth's sign-in form, with the name field saying what it takes."""

from allauth.account.forms import LoginForm


class UsernameOrEmailLoginForm(LoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Username or email"
