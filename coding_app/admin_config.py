from django.contrib.admin.apps import AdminConfig


class DeskAdminConfig(AdminConfig):
    # A dotted path: the site module imports models, which must wait for the
    # app registry.
    default_site = "coding_app.admin_site.DeskAdminSite"
