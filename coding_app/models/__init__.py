from coding_app.models.users import User

__all__ = ["User"]
