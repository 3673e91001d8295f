"""Error pages, in the user's language, in one place. The session is rolled back first."""
from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..security import RefusedInput
from ..services import ServiceError


def _page(status: int, title: str, message: str):
    db.session.rollback()
    return render_template("error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    messages = {
        400: lambda: (_("Requête invalide"), _("La demande n'a pas pu être comprise. Revenez à la page précédente et réessayez.")),
        403: lambda: (_("Accès non autorisé"), _("Votre compte ne permet pas d'ouvrir cette page. Si vous pensez en avoir besoin, demandez-le à une personne qui administre Grille PIN.")),
        429: lambda: (_("Trop de demandes"), _("Trop de demandes en peu de temps : attendez quelques minutes, puis réessayez.")),
        404: lambda: (_("Page introuvable"), _("Cette page n'existe pas, ou plus. Vérifiez l'adresse ou revenez à l'accueil.")),
        405: lambda: (_("Action non permise"), _("Cette action n'est pas possible sur cette page.")),
        413: lambda: (_("Envoi trop volumineux"), _("Ce que vous avez envoyé dépasse la taille permise. Revenez en arrière : votre texte est encore dans votre navigateur ; raccourcissez-le puis enregistrez.")),
    }

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        return _page(exc.status, _("Impossible de continuer"), str(exc.message))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if isinstance(exc, RefusedInput):
            title, message = str(exc.title), str(exc.message)
        else:
            title, message = messages.get(exc.code, lambda: (exc.name, _("Une erreur est survenue.")))()
        return _page(exc.code or 500, title, message)

    @app.errorhandler(500)
    def server_error(exc):
        return _page(500, _("Erreur du serveur"), _("Une erreur inattendue est survenue ; rien de ce qui était déjà enregistré n'est perdu. Réessayez dans un instant."))
