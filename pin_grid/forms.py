"""Forms. The grid form is built from the grid, one sub-form per statement."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, Regexp, ValidationError

from . import limits
from .grid import Grid
from .models import SECTOR_CODES
from .services import BLANK_BASE, AnswerData, AssessmentDetails, OrganizationData, ParticipantData

BLANK_ROWS = 3  # empty rows offered for new participants / organisations
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

ROLE_LABELS = {
    "membre": _l("Membre de l'équipe"),
    "coordonnateur": _l("Coordonnatrice ou coordonnateur"),
    "gestionnaire": _l("Gestionnaire"),
    "admin": _l("Administratrice ou administrateur"),
}
SECTOR_LABELS = {
    "cisss": _l("CISSS / CIUSSS"),
    "pediatrie_sociale": _l("Centre de pédiatrie sociale"),
    "communautaire": _l("Organisme communautaire"),
    "scolaire": _l("Milieu scolaire"),
    "garde_educative": _l("Service de garde éducatif"),
    "parent_partenaire": _l("Parent-partenaire"),
    "autre": _l("Autre"),
}


class IsoDateField(DateField):
    """A date typed as YYYY-MM-DD, refused with a message that shows what was typed."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%Y-%m-%d", **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l(
                "« %(value)s » n'est pas une date valide : utilisez la forme AAAA-MM-JJ, "
                "par exemple 2024-03-14.", value=" ".join(valuelist)[:40])) from None


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _sector_choices():
    return [SelectChoice("", _l("— secteur —"))] + [SelectChoice(code, SECTOR_LABELS[code]) for code in SECTOR_CODES]


class _Sector(SelectField):
    """A sector select that refuses unknown codes with a readable message."""

    def __init__(self, **kwargs):
        super().__init__(
            _l("Secteur"), choices=_sector_choices(), validate_choice=False, **kwargs
        )

    def pre_validate(self, form):
        if self.data and self.data not in SECTOR_CODES:
            raise ValidationError(_l("Secteur inconnu : « %(code)s ».", code=self.data[:40]))


class TerritoryForm(FlaskForm):
    code = StringField(
        _l("Code"),
        filters=[lambda v: v.strip().upper() if isinstance(v, str) else v],
        validators=[
            DataRequired(_l("Le code est obligatoire.")),
            Regexp(
                limits.TERRITORY_CODE,
                message=_l(
                    "Le code ne peut contenir que des lettres sans accent, des chiffres et des "
                    "traits d'union (sans espace, 20 caractères au plus), p. ex. MTL-NORD."
                ),
            ),
        ],
    )
    name = StringField(
        _l("Nom"), filters=[_strip],
        validators=[DataRequired(_l("Le nom est obligatoire.")), Length(max=limits.NAME)],
    )
    # One of the managed list of regions (services.region_names), never free text.
    region = SelectField(
        _l("Région"), filters=[_strip], validate_choice=False,
        validators=[DataRequired(_l("La région est obligatoire."))],
    )

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = [SelectChoice("", _l("— région —"))] + [SelectChoice(r) for r in regions]
        self._regions = set(regions)

    def validate_region(self, field):
        if field.data not in self._regions:
            raise ValidationError(_l("Région inconnue : « %(region)s ». Choisissez une région de la liste.",
                                     region=field.data[:limits.REGION]))


class ParticipantForm(Form):
    name = StringField(_l("Nom (facultatif)"), filters=[_strip], validators=[Length(max=limits.NAME)])
    role = StringField(_l("Rôle"), filters=[_strip], validators=[Length(max=limits.NAME)])
    sector = _Sector()

    @property
    def is_blank(self) -> bool:
        return not (self.name.data or self.role.data)

    def validate_role(self, field):
        if not self.is_blank and not field.data:
            raise ValidationError(_l("Indiquez le rôle de cette personne."))

    def validate_sector(self, field):
        if not self.is_blank and not field.data:
            raise ValidationError(_l("Choisissez le secteur de cette personne."))


class OrganizationForm(Form):
    name = StringField(_l("Organisme"), filters=[_strip], validators=[Length(max=limits.NAME)])
    sector = _Sector()

    @property
    def is_blank(self) -> bool:
        return not self.name.data

    def validate_sector(self, field):
        if not self.is_blank and not field.data:
            raise ValidationError(_l("Choisissez le secteur de cet organisme."))


class AssessmentForm(FlaskForm):
    territory = SelectField(_l("Territoire"), coerce=int, validate_choice=False)
    date = IsoDateField(_l("Date de la rencontre"), validators=[InputRequired(_l("La date est obligatoire."))])
    perspective = StringField(
        _l("Point de vue d'un organisme partenaire (laisser vide pour la vue collective du territoire)"),
        filters=[_strip], validators=[Length(max=limits.NAME)],
    )
    carry_over = BooleanField(_l("Partir des réponses de la dernière évaluation finalisée de ce territoire "
                                 "(même point de vue) : chaque réponse reprise est à confirmer ou à modifier"))
    participants = FieldList(FormField(ParticipantForm), min_entries=BLANK_ROWS)
    organizations = FieldList(FormField(OrganizationForm), min_entries=BLANK_ROWS)

    def __init__(self, *args, territories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.territory.choices = [SelectChoice(t.id, f"{t.name} ({t.code})") for t in territories]
        self._territory_ids = {t.id for t in territories}

    def validate_territory(self, field):
        if field.data not in self._territory_ids:
            raise ValidationError(_l("Choisissez un territoire de la liste."))

    def validate_date(self, field):
        # An assessment records a meeting that took place: never later than today, in Québec.
        today = dt.datetime.now(get_timezone()).date()
        if field.data and field.data > today:
            raise ValidationError(_l("La date de la rencontre ne peut pas être après aujourd'hui (%(today)s) : "
                                     "indiquez le jour où l'équipe s'est réunie.", today=today.isoformat()))
        if field.data and field.data < dt.date(2000, 1, 1):
            raise ValidationError(_l("La date doit être en 2000 ou après."))

    def validate_participants(self, field):
        rows = [row for row in field if not row.form.is_blank]
        if len(rows) > limits.PARTICIPANTS:
            raise ValidationError(
                _l("Au plus %(max)s personnes participantes par évaluation (%(count)s reçues).",
                   max=limits.PARTICIPANTS, count=len(rows))
            )

    def validate_organizations(self, field):
        rows = [row for row in field if not row.form.is_blank]
        if len(rows) > limits.ORGANIZATIONS:
            raise ValidationError(
                _l("Au plus %(max)s organismes par évaluation (%(count)s reçus).",
                   max=limits.ORGANIZATIONS, count=len(rows))
            )

    def add_blank_rows(self) -> None:
        """Offer a few empty rows after the filled ones, for people to add."""
        for rows in (self.participants, self.organizations):
            for _ in range(BLANK_ROWS - sum(1 for row in rows if row.form.is_blank)):
                rows.append_entry()

    def details(self) -> AssessmentDetails:
        return AssessmentDetails(
            territory_id=self.territory.data,
            date=self.date.data,
            perspective=self.perspective.data or None,
            participants=[
                ParticipantData(role=r.role.data, sector=r.sector.data, name=r.name.data or None)
                for r in (row.form for row in self.participants) if not r.is_blank
            ],
            organizations=[
                OrganizationData(name=r.name.data, sector=r.sector.data)
                for r in (row.form for row in self.organizations) if not r.is_blank
            ],
        )


def _level_field(grid: Grid) -> RadioField:
    codes = [lv.code for lv in grid.levels]

    def known_level(form, field):
        if field.data not in (None, "") and field.data not in codes:
            raise ValidationError(_l("Niveau inconnu : « %(code)s ».", code=str(field.data)[:40]))

    return RadioField(
        _l("Niveau"),
        choices=[SelectChoice(lv.code) for lv in grid.levels],
        validate_choice=False,
        validators=[known_level],
    )


def _target_field(grid: Grid) -> StringField:
    codes = [lv.code for lv in grid.scored_levels]

    def known_target(form, field):
        if field.data not in (None, "") and field.data not in codes:
            raise ValidationError(_l("Cible inconnue : « %(code)s » (choisissez un niveau de la liste).",
                                     code=str(field.data)[:40]))

    return StringField(_l("Cible d'ici la prochaine évaluation"), filters=[_strip], validators=[known_target])


_grid_forms: dict[int, tuple[Grid, type[FlaskForm]]] = {}


def grid_form_class(grid: Grid) -> type[FlaskForm]:
    """The grid's form class, built once per grid (every save of a statement uses it)."""
    cached = _grid_forms.get(id(grid))
    if cached is None or cached[0] is not grid:
        cached = _grid_forms[id(grid)] = (grid, _build_grid_form_class(grid))
    return cached[1]


def _build_grid_form_class(grid: Grid) -> type[FlaskForm]:
    """A FlaskForm with one `AnswerForm` per statement, named by the item id."""

    class AnswerForm(Form):
        level = _level_field(grid)
        comment = TextAreaField(
            _l("Commentaire"),
            validators=[Length(max=limits.COMMENT, message=_l(
                "Le commentaire dépasse %(max)d caractères : raccourcissez-le.", max=limits.COMMENT))],
        )
        priority = BooleanField(_l("Priorité"))
        action = TextAreaField(
            _l("Piste d'action"),
            validators=[Length(max=limits.ACTION, message=_l(
                "La piste d'action dépasse %(max)d caractères : raccourcissez-la.", max=limits.ACTION))],
        )
        action_owner = StringField(_l("Qui"), filters=[_strip], validators=[Length(max=limits.NAME)])
        action_due = IsoDateField(_l("Pour quand"), validators=[Optional()])
        target = _target_field(grid)
        confirm = BooleanField(_l("Confirmer cette réponse reprise"))
        base = HiddenField()

        def answer(self) -> AnswerData:
            return AnswerData(
                level=self.level.data or None,
                comment=(self.comment.data or "").strip(),
                priority=bool(self.priority.data),
                action=(self.action.data or "").strip(),
                action_owner=self.action_owner.data or "",
                action_due=self.action_due.data,
                target=self.target.data or None,
            )

        def base_version(self) -> str:
            """The version this statement was loaded with; a page that does not say is based on a blank answer."""
            return self.base.data or BLANK_BASE

    class GridForm(FlaskForm):
        Statement = AnswerForm  # one statement alone: `Statement(formdata, prefix=item_id)`

    for item_id in grid.items:
        setattr(GridForm, item_id, FormField(AnswerForm, separator="-"))
    return GridForm


@dataclass(frozen=True)
class StatementFields:
    """What the inputs of one statement show, as plain text: the grid page renders its 24
    statements from these, without building a form when nothing was sent."""

    level: str = ""
    comment: str = ""
    priority: bool = False
    action: str = ""
    action_owner: str = ""
    action_due: str = ""
    target: str = ""
    confirm: bool = False
    base: str = ""
    errors: dict[str, list] = field(default_factory=dict)

    @classmethod
    def stored(cls, answer: AnswerData) -> StatementFields:
        """A stored answer, and the version it is read at (what the next save is based on)."""
        return cls(answer.level or "", answer.comment, answer.priority, answer.action, answer.action_owner,
                   answer.action_due.isoformat() if answer.action_due else "", answer.target or "",
                   base=answer.fingerprint())

    def sent_as_shown(self, formdata, prefix: str) -> bool:
        """Whether `formdata` sends this statement exactly as shown from the stored answer (the
        same base, every field as rendered, nothing to confirm): a page save has nothing to read
        or check in it. Any doubt (a second value, a checkbox sent otherwise than « y ») says no."""
        for name in ("level", "comment", "action", "action_owner", "action_due", "target", "base"):
            shown, sent = getattr(self, name), formdata.getlist(f"{prefix}-{name}")
            if sent != [shown] and (shown or sent):
                return False
        return (formdata.getlist(f"{prefix}-priority") == (["y"] if self.priority else [])
                and not formdata.getlist(f"{prefix}-confirm"))

    @classmethod
    def typed(cls, statement: Form) -> StatementFields:
        """A statement's sub-form after a submission: the text as typed, even where it is invalid."""
        return cls(statement.level.data or "", statement.comment._value(), bool(statement.priority.data),
                   statement.action._value(), statement.action_owner._value(), statement.action_due._value(),
                   statement.target.data or "", bool(statement.confirm.data), statement.base.data or "",
                   statement.errors)


def typed_statements(form: FlaskForm, grid: Grid) -> dict[str, StatementFields]:
    return {item_id: StatementFields.typed(form[item_id].form) for item_id in grid.items}


# --- Accounts -----------------------------------------------------------------------------

class LoginForm(FlaskForm):
    email = StringField(_l("Adresse courriel"), filters=[_strip],
                        validators=[DataRequired(_l("Indiquez votre adresse courriel.")), Length(max=limits.EMAIL)])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(_l("Indiquez votre mot de passe.")),
                                                              Length(max=limits.PASSWORD)])


class _NewPassword:
    password = PasswordField(
        _l("Nouveau mot de passe (12 caractères ou plus)"),
        validators=[DataRequired(_l("Choisissez un mot de passe.")), Length(max=limits.PASSWORD)],
    )
    confirm = PasswordField(
        _l("Le même mot de passe, une deuxième fois"),
        validators=[EqualTo("password", _l("Les deux mots de passe ne sont pas identiques."))],
    )


class _DisplayName:
    display_name = StringField(_l("Nom affiché (facultatif)"), filters=[_strip], validators=[Length(max=limits.NAME)])


class SetupForm(_DisplayName, _NewPassword, FlaskForm):
    email = StringField(_l("Adresse courriel de l'administratrice ou de l'administrateur"), filters=[_strip],
                        validators=[DataRequired(_l("Indiquez une adresse courriel.")), Regexp(EMAIL, message=_l("Adresse courriel invalide.")),
                                    Length(max=limits.EMAIL)])


class PasswordChangeForm(_NewPassword, FlaskForm):
    current = PasswordField(_l("Mot de passe actuel"), validators=[DataRequired(_l("Indiquez votre mot de passe actuel."))])


class _AccountScope(_DisplayName, FlaskForm):
    """An account's name, role and what it covers: territories, or regions for a gestionnaire."""

    role = SelectField(_l("Rôle"), choices=[SelectChoice(code, label) for code, label in ROLE_LABELS.items()],
                       validate_choice=True)
    territories = SelectMultipleField(_l("Territoires (coordonnatrice ou coordonnateur, membre)"), validate_choice=True)
    regions = SelectMultipleField(_l("Régions (gestionnaire)"), validate_choice=True)

    def __init__(self, *args, territories=(), regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.territories.choices = [SelectChoice(t.code, f"{t.name} ({t.code})") for t in territories]
        self.regions.choices = [SelectChoice(r) for r in regions]


class UserForm(_NewPassword, _AccountScope):
    email = StringField(_l("Adresse courriel"), filters=[_strip],
                        validators=[DataRequired(_l("Indiquez une adresse courriel.")),
                                    Regexp(EMAIL, message=_l("Adresse courriel invalide.")), Length(max=limits.EMAIL)])


class UserEditForm(_AccountScope):
    password = PasswordField(_l("Nouveau mot de passe (laisser vide pour ne pas le changer)"),
                             validators=[Optional(), Length(max=limits.PASSWORD)])
    confirm = PasswordField(_l("Le même mot de passe, une deuxième fois"),
                            validators=[EqualTo("password", _l("Les deux mots de passe ne sont pas identiques."))])


class ConfirmForm(FlaskForm):
    """A button that changes something: carries only the CSRF token."""


class RevisionForm(FlaskForm):
    reason = TextAreaField(_l("Raison de la correction"), filters=[_strip],
                           validators=[DataRequired(_l("Indiquez pourquoi l'évaluation est corrigée.")),
                                       Length(max=limits.ACTION)])


# --- Administration: territories and organisations --------------------------------------

class TerritoryEditForm(TerritoryForm):
    """A territory's name, region and territorial unit: its code never changes."""

    code = None
    name = StringField(
        _l("Nom"), filters=[_strip],
        validators=[DataRequired(_l("Le nom est obligatoire.")),
                    Length(max=limits.NAME, message=_l("%(max)d caractères au plus.", max=limits.NAME))],
    )
    territorial_unit = StringField(
        _l("Unité territoriale (facultatif)"), filters=[_strip],
        validators=[Length(max=limits.NAME, message=_l("%(max)d caractères au plus.", max=limits.NAME))],
    )


class OrganizationEditForm(FlaskForm):
    name = StringField(
        _l("Nom de l'organisme"), filters=[_strip],
        validators=[DataRequired(_l("Le nom est obligatoire.")),
                    Length(max=limits.NAME, message=_l("%(max)d caractères au plus.", max=limits.NAME))],
    )
    sector = _Sector(validators=[DataRequired(_l("Choisissez le secteur de cet organisme."))])


def _id_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class OrganizationMergeForm(FlaskForm):
    """Merge an organisation into another one, chosen from the list: the one kept."""

    keep = SelectField(_l("Organisme à garder"), coerce=_id_or_none, validate_choice=False)
    confirm = BooleanField(_l("Je confirme la fusion, même si les deux organismes apparaissent dans des "
                              "territoires différents."))

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.keep.choices = [SelectChoice("", _l("— organisme —")),
                             *(SelectChoice(o.id, o.name) for o in organizations)]
        self._ids = {o.id for o in organizations}

    def validate_keep(self, field):
        if not field.raw_data or not field.raw_data[0].strip():
            raise ValidationError(_l("Choisissez l'organisme à garder."))
        if field.data not in self._ids:
            raise ValidationError(_l("Choisissez un organisme de la liste."))
