"""Sign in, sign up, sign out, and where a signed-in person lands."""

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.web.forms import SignupForm, WorkspaceForm
from core.workspaces import default_workspace

sign_out = auth_views.LogoutView.as_view()


@require_http_methods(["GET", "POST"])
def sign_up(request):
    """A new account and its first workspace, where the new user is the owner; with
    SIGNUP_OPEN off, accounts come only from an administrator (`createsuperuser`, admin)."""
    if request.user.is_authenticated:
        return redirect("home")
    if not settings.SIGNUP_OPEN:
        return render(request, "core/signup_closed.html", status=403)
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            workspace = WorkspaceForm({"name": form.cleaned_data["workspace"]})
            workspace.is_valid()
            created = workspace.create(user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("dashboard", created.slug)
    status = 422 if form.errors else 200
    return render(request, "core/signup.html", {"form": form}, status=status)


@login_required
def home(request):
    workspace = default_workspace(request.user, request.session)
    if workspace is None:
        return redirect("workspace_new")
    return redirect("dashboard", workspace.slug)


@login_required
@require_http_methods(["GET", "POST"])
def workspace_new(request):
    form = WorkspaceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        workspace = form.create(request.user)
        return redirect("dashboard", workspace.slug)
    status = 422 if form.errors else 200
    return render(request, "core/workspace_new.html", {"form": form}, status=status)
