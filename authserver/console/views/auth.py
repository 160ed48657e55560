"""Log in and out, here or everywhere."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...errors import TooManyRequests, Unauthorized
from .. import bp
from .. import login as console_login
from ..forms import LoginForm
from ..inputs import has_nul


@bp.get("/")
def index() -> ResponseReturnValue:
    if console_login.current_user() is None:
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
        form.next.data = console_login.safe_next(request.args.get("next"))
        if console_login.current_user() is not None:
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
            user = console_login.admin_login().authenticate(
                form.email.data, form.password.data, request.remote_addr
            )
        except Unauthorized:
            message = "Wrong e-mail or password."
        except TooManyRequests as error:
            message = f"Too many failed attempts. Try again in {error.retry_after} seconds."
            status = 429
            headers["Retry-After"] = str(error.retry_after)
        else:
            console_login.login(user)
            return redirect(
                console_login.safe_next(form.next.data) or url_for("console.clients"), 303
            )
    return render_template("console/login.html", form=form, message=message), status, headers


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End this browser's session, on the server too (OWASP: logout ends the session)."""
    console_login.logout()  # the CSRF token was checked by security.protect
    return redirect(url_for("console.login", logged_out=1), 303)


@bp.post("/logout/everywhere")
@console_login.login_required
def logout_everywhere() -> ResponseReturnValue:
    """End every session of the user, in every browser (audited)."""
    console_login.logout_everywhere()
    return redirect(url_for("console.login", logged_out="everywhere"), 303)
