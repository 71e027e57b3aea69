from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Operators look here for notices that wait, retry or were given up on."""

    list_display = ["key", "channel", "status", "attempts", "available_at", "sent_at"]
    list_filter = ["status", "channel"]
    search_fields = ["key"]
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]
