"""Every model, imported once so Alembic and FAB see the whole schema."""

from app.models.audit_log import AuditLog
from app.models.bill import Bill, BillLine
from app.models.business_change import BusinessChange
from app.models.care import CareRule, CareTask
from app.models.customer import Customer
from app.models.department import Department
from app.models.job import JobLease, JobRun
from app.models.payment import Payment
from app.models.plan import Plan
from app.models.subscription import Subscription, SubscriptionVas
from app.models.usage import UsageRecord
from app.models.user import CrmUser
from app.models.vas import ValueAddedService

__all__ = [
    "AuditLog",
    "Bill",
    "BillLine",
    "BusinessChange",
    "CareRule",
    "CareTask",
    "CrmUser",
    "Customer",
    "Department",
    "JobLease",
    "JobRun",
    "Payment",
    "Plan",
    "Subscription",
    "SubscriptionVas",
    "UsageRecord",
    "ValueAddedService",
]
