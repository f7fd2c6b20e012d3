from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cshub.accounts"
    label = "accounts"
    verbose_name = "Organizations and users"

    def ready(self) -> None:
        # Sign-ins and sign-outs are security events: Django's auth signals are the one place all of
        # allauth's flows pass through, so the audit hooks here rather than in each view.
        from django.contrib.auth import signals

        from cshub.accounts import audit_hooks

        signals.user_logged_in.connect(audit_hooks.on_login, dispatch_uid="cshub_audit_login")
        signals.user_logged_out.connect(audit_hooks.on_logout, dispatch_uid="cshub_audit_logout")
        signals.user_login_failed.connect(
            audit_hooks.on_login_failed, dispatch_uid="cshub_audit_login_failed"
        )
