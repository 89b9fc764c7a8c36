from coding_app.models.codes import Code, CodeRelease
from coding_app.models.users import User

__all__ = ["Code", "CodeRelease", "User"]
