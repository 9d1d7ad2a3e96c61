"""Forms of the builder's pages; every bad value becomes a field error."""

from django import forms
from django.conf import settings
from django.utils.text import slugify

from builder.models import Trigger, Workflow
from core import jsonbody


class WorkflowForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=100,
        required=False,
        help_text="Used in URLs and the API; made from the name when left empty.",
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean(self):
        cleaned = super().clean()
        if "name" in cleaned and not self.errors.get("slug"):
            slug = cleaned.get("slug") or slugify(cleaned["name"])[:100]
            if not slug:
                self.add_error("slug", "Give a slug of letters, digits, - or _.")
            elif Workflow.objects.filter(workspace=self.workspace, slug=slug).exists():
                self.add_error("slug", f"A workflow with the slug “{slug}” already exists.")
            cleaned["slug"] = slug
        return cleaned


class PublishForm(forms.Form):
    note = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "What changed, for the version history"}),
    )


class ImportForm(forms.Form):
    definition = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
        help_text="Paste a workflow definition (JSON), or choose a file below.",
    )
    file = forms.FileField(required=False, help_text="A .json file exported from Brickwork.")
    save_invalid = forms.BooleanField(
        required=False,
        label="Save it as the draft even if it has problems, and fix them in the builder",
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        text = cleaned.get("definition", "")
        raw = text.encode()
        if upload:
            if upload.size > settings.MAX_REQUEST_BYTES:
                self.add_error("file", "The file is larger than 1 MiB.")
                return cleaned
            raw = upload.read()
        if not raw.strip():
            self.add_error("definition", "Paste a definition or choose a file.")
            return cleaned
        try:
            parsed = jsonbody.parse(raw)
        except jsonbody.MalformedJSON as error:
            self.add_error("file" if upload else "definition", f"{_capital(error)}.")
            return cleaned
        if not isinstance(parsed, dict):
            self.add_error("definition", "A definition is a JSON object with a list of steps.")
            return cleaned
        cleaned["parsed"] = parsed
        return cleaned


class TriggerForm(forms.ModelForm):
    """A new webhook trigger; its token and (for a signature check) secret are generated."""

    class Meta:
        model = Trigger
        fields = ["name", "signature", "signature_header", "signature_prefix", "input_mode"]
        fields += ["event_id_header"]
        labels = {
            "signature": "Signature check",
            "signature_header": "Signature header",
            "signature_prefix": "Signature prefix",
            "input_mode": "Run input",
            "event_id_header": "Event id header",
        }
        help_texts = {
            "signature": "Timestamped: Brickwork-Signature: t=…,v1=… (replays refused). "
            "HMAC: a plain HMAC-SHA256 of the body in a header, as GitHub sends.",
            "signature_header": "HMAC only, e.g. X-Hub-Signature-256.",
            "signature_prefix": "HMAC only, e.g. sha256=",
            "input_mode": "Envelope: {body, headers, query}. Body: the JSON body alone.",
            "event_id_header": "Optional, e.g. X-GitHub-Delivery: a repeated event starts no "
            "second run.",
        }

    def clean(self):
        cleaned = super().clean()
        signature = cleaned.get("signature")
        if signature == "hmac" and not cleaned.get("signature_header"):
            self.add_error("signature_header", "Name the header that carries the signature.")
        for name in ("signature_header", "event_id_header"):
            value = cleaned.get(name) or ""
            if value and not all(ch.isalnum() or ch == "-" for ch in value):
                self.add_error(name, "A header name is letters, digits and dashes.")
        return cleaned


def _capital(error):
    text = str(error)
    return text[:1].upper() + text[1:]


class TestEventForm(forms.Form):
    """The body of a test event sent from the triggers page, as a sender would POST it."""

    body = forms.CharField(
        initial='{"event": "test"}',
        max_length=64 * 1024,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="JSON, POSTed to the webhook as it is (no signature needed from here).",
    )

    def clean_body(self):
        body = self.cleaned_data["body"]
        try:
            jsonbody.parse(body.encode())
        except jsonbody.MalformedJSON as error:
            raise forms.ValidationError(f"not JSON: {error}")
        return body
