"""Use-cases of the product, by subject. Views and CLI commands call these; every write goes
through `transactions.write_transaction`.

- errors: the refusals that become 4xx answers;
- audit: the audit trail;
- territories: territories and partner organisations;
- organizations: partner organisations as administrators manage them (rename, sector, merge);
- assessments: the lifecycle of an assessment (draft, answers, finalisation, revision, deletion);
- results: scores, symbols, profiles, the comparison of territories, the yearly follow-up;
- dashboard: what the territory and regional dashboards read;
- imports: the `pin-grid/1` records read and written;
- exports: the tables people download (comparison, results, answers) and `pin-grid/1` by scope.
"""
from .assessments import (
    BLANK_BASE,
    AnswerConflict,
    AnswerData,
    AssessmentDetails,
    OrganizationData,
    ParticipantData,
    SaveResult,
    StoredAnswers,
    delete_draft,
    finalize,
    finalize_blocker,
    find_assessments,
    get_assessment,
    open_revision,
    participant_count,
    previous_assessment,
    revision_chain,
    save_answers,
    start_assessment,
    stored_answers,
    unanswered_items,
    unconfirmed_items,
    update_details,
    versions_of,
)
from .audit import SYSTEM, add_audit, audit_trail, record_event
from .dashboard import (
    PlacedAssessment,
    RegionalDashboard,
    RegionalFilters,
    StatementTally,
    TerritoryDashboard,
    regional_dashboard,
    territory_dashboard,
    territory_summary,
)
from .errors import Conflict, Locked, NotFound, ServiceError
from .imports import ImportReport, current_assessments, import_assessments, version_chains
from .exports import (
    EVERYTHING,
    PERSPECTIVES,
    WHAT as EXPORT_WHAT,
    Export,
    ExportFilters,
    ExportScope,
    answers_export,
    comparison_export,
    comparison_of,
    csv_dialect,
    exchange_export,
    export_years,
    filename as export_filename,
    organization_by_name,
    organization_in_scope,
    record_export,
    results_export,
    write_export,
)
from .organizations import (
    MergeReport,
    OrganizationListing,
    OrganizationOverview,
    get_organization,
    merge_organizations,
    organization_listing,
    organization_overview,
    territories_of_organizations,
    update_organization,
)
from .results import (
    AssessmentResults,
    Comparison,
    ComparisonRow,
    FollowUp,
    ItemChange,
    ThemeChange,
    ThemeResult,
    action_plan,
    answered_count,
    cohort,
    cohort_statistics,
    compare_year,
    comparison_years,
    follow_up,
    knowledge_gaps,
    profile_counts,
    results_of,
    score_levels,
    standing_of,
)
from .territories import (
    AssessmentSummary,
    TerritoryAssessments,
    TerritoryListing,
    TerritoryOverview,
    TerritorySummary,
    all_territories,
    answered_counts,
    check_region,
    create_territory,
    get_territory,
    holds_data,
    name_key,
    organization_named,
    organizations_of,
    region_names,
    territories_in_scope,
    territory_admin_listing,
    territory_assessments,
    territory_by_code,
    territory_listing,
    update_territory,
)
