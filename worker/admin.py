from __future__ import annotations

from django.contrib import admin

from worker.models import ApiToken, Note, RejectedRow, UploadBatch


class RejectedRowInline(admin.TabularInline[RejectedRow, UploadBatch]):
    model = RejectedRow
    fields = ("kind", "file_name", "row_number", "field", "external_id", "reason")
    readonly_fields = fields
    extra = 0
    max_num = 0
    show_change_link = False


@admin.register(UploadBatch)
class UploadBatchAdmin(admin.ModelAdmin[UploadBatch]):
    list_display = (
        "file_name",
        "source",
        "status",
        "rows_read",
        "notes_created",
        "duplicates",
        "rejected",
        "codes_flagged",
        "created_at",
    )
    list_filter = ("status", "mode", "source")
    readonly_fields = [field.name for field in UploadBatch._meta.fields]
    inlines = [RejectedRowInline]


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin[Note]):
    list_display = ("external_id", "source", "text_seen_before", "created_at")
    list_filter = ("source", "text_seen_before")
    search_fields = ("external_id",)
    raw_id_fields = ("batch",)
    readonly_fields = ("text_sha256", "batch", "created_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    # Tokens are made with the create_api_token command, which shows the key
    # once; here they are only seen and revoked.
    fields = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("name", "user", "prefix", "created_at", "last_used_at")

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False
