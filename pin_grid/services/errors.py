"""Refusals of the services, which the views turn into 4xx answers with the message shown."""
from __future__ import annotations


class ServiceError(Exception):
    status = 422

    def __init__(self, message, **details):
        super().__init__(str(message))
        self.message = message
        self.details = details


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Locked(ServiceError):
    status = 409

