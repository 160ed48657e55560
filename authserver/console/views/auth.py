"""Log in and out, here or everywhere (issue 4, step 1)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...errors import TooManyRequests, Unauthorized
from ...services import auth as auth_service
from .. import bp, session
from ..forms import LoginForm
from ..inputs import has_nul


@bp.get("/")
def index() -> ResponseReturnValue:
    if session.current_user() is None:
        return redirect(url_for("console.login"), 303)
    return redirect(url_for("console.clients"), 303)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """E-mail and password, checked and throttled exactly as the admin API's login.

    A refusal is the outcome of this form, not an error page: the view shows
    it next to the form (a wrong e-mail and a wrong password read the same).
    """
    form = LoginForm()
    if request.method == "GET":
        form.next.data = session.safe_next(request.args.get("next"))
        if session.current_user() is not None:
            return redirect(form.next.data or url_for("console.clients"), 303)
    message = None
    headers: dict[str, str] = {}
    status = 200
    submitted = form.validate_on_submit()
    if submitted and has_nul(form.email.data, form.password.data):
        # nobody is named with a NUL, and the database must not see one
        message = "Wrong e-mail or password."
    elif submitted:
        try:
            user = auth_service.authenticate_user(
                form.email.data, form.password.data, request.remote_addr
            )
        except Unauthorized:
            message = "Wrong e-mail or password."
        except TooManyRequests as error:
            message = f"Too many failed attempts. Try again in {error.retry_after} seconds."
            status = 429
            headers["Retry-After"] = str(error.retry_after)
        else:
            session.login(user)
            return redirect(session.safe_next(form.next.data) or url_for("console.clients"), 303)
    return render_template("console/login.html", form=form, message=message), status, headers


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End this browser's session, on the server too (OWASP: logout ends the session)."""
    session.logout()  # the CSRF token was checked by security.protect
    return redirect(url_for("console.login", logged_out=1), 303)


@bp.post("/logout/everywhere")
@session.login_required
def logout_everywhere() -> ResponseReturnValue:
    """End every session of the user, in every browser (audited)."""
    session.logout_everywhere()
    return redirect(url_for("console.login", logged_out="everywhere"), 303)
