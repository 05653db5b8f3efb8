"""Coproduce: coproduced care and support planning. The application factory lives here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import assets, config, content, db, errors, formatting, inputs, links, security
from webapp.accounts.models import given_name
from webapp.extensions import babel, compress, csrf, htmx_ext, limiter, login_manager

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_overrides: dict[str, Any] | None = None) -> Flask:
    """Create the Flask app from the environment, or from the given settings in tests."""
    app = Flask(__name__, static_folder=None, instance_path=str(config.INSTANCE_DIR))
    inputs.init_app(app)  # first: every route's <int:...> is bounded as it is registered
    settings = config_overrides if config_overrides is not None else config.from_environment()
    if config_overrides is not None and "SECRET_KEY" not in settings:
        settings = {**config.config_for_tests(), **settings}
    app.config.update(settings)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=db.normalise_url(app.config["DATABASE_URL"]),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="coproduce_session",
        REMEMBER_COOKIE_DURATION=0,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=app.config.get("SESSION_COOKIE_SECURE", False),
        BABEL_DEFAULT_LOCALE="en_GB",
        BABEL_DEFAULT_TIMEZONE="Europe/London",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(app.root_path) / "translations"),
        RATELIMIT_STORAGE_URI=app.config.get("REDIS_URL") or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
            "application/manifest+json",
            "image/svg+xml",
        ],
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_MIN_SIZE=500,
        # Brotli 3 is within 6% of 4's size at 60% of its time (measured on the results page).
        COMPRESS_BR_LEVEL=3,
    )
    if app.config.get("TRUSTED_PROXIES"):
        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    security.init_logging(app)
    # First, so even a request the rate limiter refuses has an id and security headers.
    security.init_app(app)
    db.init_app(app)
    content.init_app(app)
    assets.init_app(app)
    links.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app)
    _fast_template_gettext(app)
    formatting.init_app(app)
    htmx_ext.init_app(app)
    compress.init_app(app)
    _init_login(app)
    inputs.clean_requests(app)

    from webapp.migrate import migrate

    migrate.init_app(app, directory=str(ROOT / "migrations"), render_as_batch=True)

    from webapp.accounts.routes import bp as accounts_bp
    from webapp.carers import routes as carers
    from webapp.clinicians.routes import bp as clinicians_bp
    from webapp.conditions.routes import bp as conditions_bp
    from webapp.contact.routes import bp as contact_bp
    from webapp.goals.plan_routes import bp as plan_bp
    from webapp.goals.routes import bp as goals_bp
    from webapp.groups.routes import bp as groups_bp
    from webapp.main.routes import bp as main_bp
    from webapp.notifications.routes import bp as notifications_bp
    from webapp.outcomes.routes import bp as outcomes_bp
    from webapp.planning.routes import bp as planning_bp
    from webapp.results.routes import bp as results_bp
    from webapp.reviews.routes import bp as reviews_bp
    from webapp.rights.routes import bp as rights_bp
    from webapp.timebank.routes import bp as timebank_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(clinicians_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(planning_bp)
    app.register_blueprint(goals_bp)
    app.register_blueprint(plan_bp)
    app.register_blueprint(rights_bp)
    app.register_blueprint(outcomes_bp)
    app.register_blueprint(carers.bp)
    app.register_blueprint(groups_bp)
    app.register_blueprint(timebank_bp)
    app.register_blueprint(conditions_bp)
    app.register_blueprint(contact_bp)
    carers.init_app(app)

    errors.init_app(app)

    from webapp import cli

    cli.init_app(app)

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        """Give every template the CSRF token and the signed-in actor."""
        # The actor itself, not the proxy, and the token made at most once per render: templates
        # read both many times. Made only when asked for, so rendering the service worker
        # never touches the session (a race with a page load would swap the CSRF token).
        made: list[str] = []

        def csrf_token() -> str:
            if not made:
                made.append(generate_csrf())
            return made[0]

        actor = current_user._get_current_object()

        def unread_notifications() -> int:
            from webapp.db import get_session
            from webapp.notifications.services import unread_count

            if not actor.is_authenticated:
                return 0
            if actor.unread_notifications is not None:
                return actor.unread_notifications
            return unread_count(get_session(), actor)

        def needs_look() -> int | None:
            """Posts waiting for the actor's look as a peer supporter; None when they support
            no group (or act for someone, when groups are out of reach)."""
            if not actor.is_authenticated or actor.acting is not None:
                return None
            supports, waiting = actor.supports_groups, actor.needs_look
            if supports is None:  # not loaded with the session: ask once
                from webapp.db import get_session
                from webapp.groups.looks import header_counts

                supports, waiting = header_counts(get_session(), actor)
            return waiting if supports else None

        acting = getattr(actor, "acting", None)
        helped_name = given_name(acting.person_name) if acting is not None else ""

        def whose(mine: str, theirs: str) -> str:
            """A heading as the reader owns it: "My results" for the person, "Pat's
            results" for a carer acting for Pat (`theirs` is written with `helped_name`)."""
            return theirs if acting is not None else mine

        return {
            "csrf_token": csrf_token,
            "actor": actor,
            "unread_notifications": unread_notifications,
            "needs_look": needs_look,
            "helped_name": helped_name,
            "whose": whose,
        }

    return app


def _fast_template_gettext(app: Flask) -> None:
    """Look the request's translations up once, not for every string a template shows.

    Flask-Babel resolves the locale and translations on each call; a page has dozens.
    """
    from flask import request
    from flask_babel import get_translations

    def translations():  # type: ignore[no-untyped-def]
        try:
            current = request._get_current_object()  # type: ignore[attr-defined]
        except RuntimeError:  # outside a request
            return get_translations()
        found = current.__dict__.get("_translations")
        if found is None:
            found = current.__dict__["_translations"] = get_translations()
        return found

    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


def _init_login(app: Flask) -> None:
    """Bind Flask-Login: sessions are looked up by their token, and expire when idle."""
    from flask_babel import lazy_gettext

    from webapp.accounts.services import load_session
    from webapp.db import get_session
    from webapp.htmx import hx_redirect

    login_manager.init_app(app)
    login_manager.login_view = "accounts.signin"
    # Sessions live on the server (AuthSession), with idle and absolute time-outs; tying them
    # to an IP address would sign out phones that move between networks.
    login_manager.session_protection = None
    login_manager.login_message = lazy_gettext("Please sign in to see that page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load(token: str):  # type: ignore[no-untyped-def]
        """Return the actor for a session token, or None if it has ended."""
        return load_session(get_session(), token)

    @login_manager.unauthorized_handler
    def _unauthorized():  # type: ignore[no-untyped-def]
        """Send someone who is not signed in to the sign-in page."""
        from flask import flash, jsonify, request, url_for

        # Script requests (JSON, and progress sent from the offline queue) get an answer the
        # script can read, never a redirect it would take for success.
        if request.is_json or request.headers.get("X-Outbox") == "1":
            message = lazy_gettext("Your session has ended. Please sign in again.")
            return jsonify(ok=False, error=str(message)), 401
        flash(login_manager.login_message, "info")
        return hx_redirect(url_for("accounts.signin"))
