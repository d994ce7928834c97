"""Every table of the tracker, as SQLModel classes. They mirror the latest migration in
tracker/store/migrations: the migrations, not create_all, make the schema."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Integer
from sqlmodel import Column, Field, Index, SQLModel, UniqueConstraint

ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only


# ---------------------------------------------------------------------------------------
# The targets model as last synced, and reported values

class IndicatorRow(SQLModel, table=True):
    """An indicator as targets.yaml last defined it (指标)."""

    __tablename__ = "indicator"
    id: str = Field(primary_key=True)
    name: str
    unit: str
    kind: str
    frequency: str
    reporter: str = ""
    numerator: str | None = None
    denominator: str | None = None
    multiplier: float = 1.0
    description: str = ""
    active: bool = True
    updated_at: datetime


class TargetRow(SQLModel, table=True):
    """A target's current definition; every definition it ever had is in target_version."""

    __tablename__ = "target"
    id: str = Field(primary_key=True)
    version: int
    indicator: str
    comparator: str
    value: float
    unit: str
    deadline: date | None = None
    scope: str = "whole"
    soft: bool = False
    active: bool = True
    updated_at: datetime


class TargetVersionRow(SQLModel, table=True):
    __tablename__ = "target_version"
    __table_args__ = (UniqueConstraint("target_id", "version", name="uq_target_version"),)
    id: int | None = Field(default=None, sa_column=Column(ID_TYPE, primary_key=True, autoincrement=True))
    target_id: str = Field(index=False)
    version: int
    definition: str  # JSON of the Target dataclass
    digest: str
    synced_at: datetime


class MilestoneRow(SQLModel, table=True):
    __tablename__ = "milestone"
    id: str = Field(primary_key=True)
    plan: str
    task: int
    text: str
    deadline: date | None = None
    quote: str = ""
    active: bool = True
    updated_at: datetime


class ImportBatchRow(SQLModel, table=True):
    """One file (or one command) that entered values: who, when, how many rows."""

    __tablename__ = "import_batch"
    id: int | None = Field(default=None, sa_column=Column(ID_TYPE, primary_key=True, autoincrement=True))
    file: str
    sha256: str = ""
    entered_by: str
    entered_at: datetime
    rows: int = 0
    kind: str = "values"  # values | progress


class ObservationRow(SQLModel, table=True):
    """One revision of one reported cell (indicator, region, period). Never updated."""

    __tablename__ = "observation"
    __table_args__ = (
        UniqueConstraint("indicator", "region", "period", "revision", name="uq_observation_cell_revision"),
        Index("ix_observation_entered_at", "entered_at"),
    )
    id: int | None = Field(default=None, sa_column=Column(ID_TYPE, primary_key=True, autoincrement=True))
    indicator: str
    region: str
    period: str  # label: 2026-11, 2026Q3, 2025, 2026-11-15
    period_end: date
    value: float  # in the indicator's unit
    revision: int
    entered_by: str
    entered_at: datetime
    source: str = ""  # file:row:column, or "command"
    note: str = ""
    batch_id: int | None = None


class MilestoneProgressRow(SQLModel, table=True):
    """A report on a milestone by a department or region. Appended, never updated."""

    __tablename__ = "milestone_progress"
    __table_args__ = (Index("ix_milestone_progress_milestone", "milestone", "reporter"),)
    id: int | None = Field(default=None, sa_column=Column(ID_TYPE, primary_key=True, autoincrement=True))
    milestone: str
    reporter: str
    state: str
    reported_on: date
    note: str = ""
    evidence: str = ""
    entered_by: str
    entered_at: datetime
    source: str = ""
    batch_id: int | None = None


observation_table = ObservationRow.__table__
progress_table = MilestoneProgressRow.__table__
batch_table = ImportBatchRow.__table__


# ---------------------------------------------------------------------------------------
# Runs and status snapshots

class RunRow(SQLModel, table=True):
    """One job's run for one period; the row is the claim (created by migration 0002)."""

    __tablename__ = "run"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_run_job_period"),)
    id: int | None = Field(default=None, sa_column=Column(ID_TYPE, primary_key=True, autoincrement=True))
    job: str
    period: str  # 2026-11
    state: str  # running | succeeded | failed | interrupted
    attempt: int = 1
    owner: str = ""  # host:pid of the process that holds it
    token: int = 0  # fencing token: every claim increments it; a holder writes only while it is still its own
    started_at: datetime
    heartbeat_at: datetime
    lease_until: datetime | None = None  # the holder's lease, renewed by its heartbeat (migration 0013)
    finished_at: datetime | None = None
    late: bool = False
    forced: bool = False
    report_path: str = ""
    alerts: int = 0
    error: str = ""


class StatusSnapshotRow(SQLModel, table=True):
    """The statuses a run found, kept so the next run can tell what flipped."""

    __tablename__ = "status_snapshot"
    __table_args__ = (UniqueConstraint("period", "item_id", "region", name="uq_snapshot_item"),)
    id: int | None = Field(default=None, sa_column=Column(ID_TYPE, primary_key=True, autoincrement=True))
    period: str
    item_id: str
    region: str = ""
    code: str
    reason: str = ""
    recorded_at: datetime


run_table = RunRow.__table__
snapshot_table = StatusSnapshotRow.__table__


# ---------------------------------------------------------------------------------------
# The alert outbox

class AlertRow(SQLModel, table=True):
    """One message to one channel and recipient group, with its delivery state."""

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_state_next", "state", "next_attempt_at"),)
    id: int | None = Field(default=None, sa_column=Column(ID_TYPE, primary_key=True, autoincrement=True))
    key: str = Field(unique=True)  # idempotency key, sent with the message
    period: str
    kind: str  # transition | recovery | reminder | submission | test
    item_id: str
    region: str = ""
    code: str = ""
    previous_code: str = ""
    channel: str
    recipient: str  # the unit(s) or addresses it goes to, for people reading the list
    subject: str
    body: str
    payload: str  # JSON: what the channel sends
    state: str = "pending"  # pending | sending | sent | dead
    attempts: int = 0
    next_attempt_at: datetime
    claimed_at: datetime | None = None
    last_error: str = ""
    created_at: datetime
    sent_at: datetime | None = None


alert_table = AlertRow.__table__


# ---------------------------------------------------------------------------------------
# Web accounts, sign-in attempts, the audit log, generated secrets

class UserRow(SQLModel, table=True):
    __tablename__ = "web_user"
    id: int | None = Field(default=None, sa_column=Column(ID_TYPE, primary_key=True, autoincrement=True))
    username: str
    display_name: str = ""
    password_hash: str
    role: str
    department: str = ""
    region: str = ""  # region code
    # the plan the account works in (migration 0017): "" the home plans, or the one holding its region
    plan: str = Field(default="", sa_column_kwargs={"server_default": ""})
    active: bool = True
    sessions_after: datetime | None = None  # sessions issued earlier are void (sign-out, new password)
    created_at: datetime
    updated_at: datetime


class LoginAttemptRow(SQLModel, table=True):
    __tablename__ = "login_attempt"
    id: int | None = Field(default=None, sa_column=Column(ID_TYPE, primary_key=True, autoincrement=True))
    username: str
    ip: str = ""
    at: datetime
    ok: bool


class AuditRow(SQLModel, table=True):
    """Who did what, when, from where, and whether it was allowed. Appended only."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, sa_column=Column(ID_TYPE, primary_key=True, autoincrement=True))
    at: datetime
    actor: str
    action: str  # login, logout, entry, upload, progress, report, remind, user_add, user_disable, ...
    object: str = ""
    outcome: str = "ok"  # ok | refused | failed | limited | invalid
    detail: str = ""
    ip: str = ""


class SecretRow(SQLModel, table=True):
    __tablename__ = "web_secret"
    name: str = Field(primary_key=True)
    value: str
    created_at: datetime


user_table = UserRow.__table__
attempt_table = LoginAttemptRow.__table__
audit_table = AuditRow.__table__
secret_table = SecretRow.__table__


class MetaRow(SQLModel, table=True):
    """What the tracker keeps about itself (targets_digest: the targets model last synced)."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str
    updated_at: datetime


meta_table = MetaRow.__table__


# ---------------------------------------------------------------------------------------
# Review and approval of reported figures (created by migration 0016_approvals)

class ApprovalRow(SQLModel, table=True):
    """The state of one reporting unit's figures for one plan and period: draft (填报中),
    submitted (已提交), approved (已审核) or accepted (已上报, locked). Changed only by a
    conditional UPDATE on the state it was read in; every change is an approval_event row."""

    __tablename__ = "approval"
    __table_args__ = (UniqueConstraint("unit", "plan", "period", name="uq_approval_unit_plan_period"),
                      Index("ix_approval_plan_state", "plan", "state"))
    id: int | None = Field(default=None, sa_column=Column(ID_TYPE, primary_key=True, autoincrement=True))
    unit: str  # a region code, or a department's name (as in indicator.reporter)
    plan: str
    period: str  # label: 2026-11, 2026Q3, 2025
    frequency: str  # monthly | quarterly | yearly: the indicators the period's figures are of
    period_start: date
    period_end: date
    state: str = "draft"
    reopened: bool = False  # unlocked by the supervisor: open to entry though past its expiry
    last_action: str = ""  # the latest transition (submit, approve, accept, return, unlock)
    note: str = ""  # the reason given with it (a return's or an unlock's reason)
    updated_by: str = ""
    updated_at: datetime
    created_at: datetime


class ApprovalEventRow(SQLModel, table=True):
    """One transition of an approval: who, when, why. Appended, never updated."""

    __tablename__ = "approval_event"
    __table_args__ = (Index("ix_approval_event_approval", "approval_id", "id"),)
    id: int | None = Field(default=None, sa_column=Column(ID_TYPE, primary_key=True, autoincrement=True))
    approval_id: int
    action: str  # submit | approve | accept | return | unlock
    from_state: str
    to_state: str
    actor: str  # the person (user name)
    actor_unit: str = ""  # the unit they acted for ("" for the supervisor's account)
    reason: str = ""
    at: datetime


approval_table = ApprovalRow.__table__
approval_event_table = ApprovalEventRow.__table__
