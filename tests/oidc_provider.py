"""A small OpenID Connect provider on loopback, for the OIDC sign-in test.

It speaks the authorization-code flow with PKCE as a real provider does (discovery,
authorize, token, userinfo, JWKS; RS256 ID tokens) and signs in one person, `person`,
without asking: the consent screen is the provider's business, not ours.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.servers import free_port


class OidcProvider:
    def __init__(self, client_id, client_secret, person):
        self.client_id, self.client_secret, self.person = client_id, client_secret, person
        self.port = free_port()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes = {}  # code -> what the authorize request asked for
        self.tokens = set()
        self.lock = threading.Lock()

    @property
    def issuer(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self):
        return f"{self.issuer}/.well-known/openid-configuration"

    def start(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, provider.configuration())
                if url.path == "/jwks":
                    return self._json(200, provider.jwks())
                if url.path == "/authorize":
                    return self._redirect(provider.authorize(query))
                if url.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    if token not in provider.tokens:
                        return self._json(401, {"error": "invalid_token"})
                    return self._json(200, provider.person)
                self._json(404, {"error": "not_found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path != "/token":
                    return self._json(404, {"error": "not_found"})
                status, body = provider.token(form)
                self._json(status, body)

            def _json(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _redirect(self, location):
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()

    def configuration(self):
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self):
        key = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**key, "kid": "test", "use": "sig", "alg": "RS256"}]}

    def authorize(self, query):
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            raise ValueError(f"unexpected authorize request {query}")
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = query
        answer = {"code": code, "state": query.get("state", "")}
        return f"{query['redirect_uri']}?{urlencode(answer)}"

    def token(self, form):
        with self.lock:
            asked = self.codes.pop(form.get("code", ""), None)
        if asked is None or form.get("client_secret") != self.client_secret:
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != asked["redirect_uri"]:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
        if "code_challenge" in asked and not _pkce_matches(form, asked):
            return 400, {"error": "invalid_grant", "error_description": "code_verifier"}
        access_token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens.add(access_token)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": self.person["sub"],
            "iat": now,
            "exp": now + 300,
            "email": self.person["email"],
            "email_verified": True,
        }
        if "nonce" in asked:
            claims["nonce"] = asked["nonce"]
        id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "test"})
        body = {"access_token": access_token, "token_type": "Bearer", "expires_in": 300}
        return 200, {**body, "id_token": id_token}


def _pkce_matches(form, asked):
    digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return challenge == asked["code_challenge"]
