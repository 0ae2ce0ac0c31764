"""Every model, imported once so Alembic and FAB see the whole schema."""

from app.models.acl_version import AclVersion
from app.models.analytics import ChurnModelVersion, ChurnScore, SegmentSnapshot
from app.models.audit_log import AuditLog
from app.models.bill import Bill, BillLine
from app.models.bulk_job import BulkJob
from app.models.business_change import BusinessChange
from app.models.campaign import Campaign, CampaignContact, CampaignLaunch
from app.models.care import CareRule, CareTask
from app.models.care_summary import CareTaskDaily
from app.models.contact_log import ContactLog
from app.models.customer import Customer
from app.models.customer_alias import CustomerAlias
from app.models.department import Department
from app.models.hardening import AuditCheckpoint, FieldKeyCheck, LoginAttempt
from app.models.import_job import ImportMapping, ImportRun
from app.models.job import JobLease, JobRun
from app.models.kb import KbArticle, KbArticleVersion, KbCategory, KbFeedback, KbToken
from app.models.kpi import KpiSnapshot
from app.models.lead import Lead
from app.models.message import MessageTemplate, OutboxMessage
from app.models.opportunity import Opportunity, OpportunityStageChange
from app.models.order import SalesOrder, SalesOrderLine
from app.models.payment import Payment
from app.models.plan import Plan
from app.models.sales_playbook import PlaybookAction, PlaybookDone
from app.models.sales_summary import SalesDaily
from app.models.saved_view import SavedView, SavedViewPin
from app.models.service_summary import ServiceSummaryState, TicketCsatDaily, TicketDaily
from app.models.sla import SlaPolicy, TicketSla
from app.models.subscription import Subscription, SubscriptionVas
from app.models.survey import Survey
from app.models.tag import Tag, customer_tag  # noqa: F401 - the link table
from app.models.team import Team
from app.models.ticket import (
    Ticket,
    TicketAttachment,
    TicketDepartmentTime,
    TicketEvent,
    TicketRoutingRule,
    TicketTransfer,
)
from app.models.usage import UsageRecord
from app.models.user import CrmUser
from app.models.vas import ValueAddedService

__all__ = [
    "AclVersion",
    "AuditCheckpoint",
    "AuditLog",
    "Bill",
    "BillLine",
    "BulkJob",
    "BusinessChange",
    "Campaign",
    "CampaignContact",
    "CampaignLaunch",
    "CareRule",
    "CareTask",
    "CareTaskDaily",
    "ChurnModelVersion",
    "ChurnScore",
    "ContactLog",
    "CrmUser",
    "Customer",
    "CustomerAlias",
    "Department",
    "FieldKeyCheck",
    "ImportMapping",
    "ImportRun",
    "JobLease",
    "JobRun",
    "KbArticle",
    "KbArticleVersion",
    "KbCategory",
    "KbFeedback",
    "KbToken",
    "KpiSnapshot",
    "Lead",
    "LoginAttempt",
    "MessageTemplate",
    "OutboxMessage",
    "Opportunity",
    "OpportunityStageChange",
    "Payment",
    "Plan",
    "PlaybookAction",
    "PlaybookDone",
    "SalesDaily",
    "SalesOrder",
    "SalesOrderLine",
    "SavedView",
    "SavedViewPin",
    "SegmentSnapshot",
    "SlaPolicy",
    "Subscription",
    "SubscriptionVas",
    "ServiceSummaryState",
    "Survey",
    "Team",
    "Tag",
    "Ticket",
    "TicketAttachment",
    "TicketCsatDaily",
    "TicketDaily",
    "TicketDepartmentTime",
    "TicketEvent",
    "TicketRoutingRule",
    "TicketSla",
    "TicketTransfer",
    "UsageRecord",
    "ValueAddedService",
]
