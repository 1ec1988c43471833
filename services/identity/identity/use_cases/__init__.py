"""Identity's behaviour: plain functions over a unit of work and their collaborators.

No Flask, no pika, no environment here: views, consumers, commands and unit tests all call
these the same way. A function that checks a password records a failure in its unit of
work and raises :class:`Rejected`; the caller commits that unit of work before answering,
so that login throttling counts the failure.
"""

from identity.access import TeamOwner
from identity.use_cases.accounts import (
    ChangePassword,
    ConfirmPasswordReset,
    DeleteAccount,
    LoggedIn,
    LogIn,
    SignUp,
    change_password,
    confirm_password_reset,
    delete_account,
    log_in,
    log_out,
    make_admin,
    register_user,
    request_password_reset,
)
from identity.use_cases.api_keys import create_api_key, regenerate_api_key, revoke_api_key, show_api_key
from identity.use_cases.common import Rejected
from identity.use_cases.orgs import (
    NewOrg,
    add_member,
    change_member_role,
    create_org,
    delete_org,
    remove_member,
    update_org,
)
from identity.use_cases.profiles import (
    UpdateProfile,
    remove_avatar,
    set_avatar,
    update_linked_accounts,
    update_profile,
)
from identity.use_cases.teams import NewTeam, create_team, delete_team, update_team
from identity.use_cases.throttle import ThrottlePolicy

__all__ = [
    "ChangePassword", "ConfirmPasswordReset", "DeleteAccount", "LoggedIn", "LogIn", "SignUp",
    "change_password", "confirm_password_reset", "delete_account", "log_in", "log_out",
    "make_admin", "register_user", "request_password_reset",
    "create_api_key", "regenerate_api_key", "revoke_api_key", "show_api_key",
    "Rejected",
    "NewOrg", "add_member", "change_member_role", "create_org", "delete_org", "remove_member", "update_org",
    "UpdateProfile", "remove_avatar", "set_avatar", "update_linked_accounts", "update_profile",
    "NewTeam", "TeamOwner", "create_team", "delete_team", "update_team",
    "ThrottlePolicy",
]
