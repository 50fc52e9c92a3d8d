-- Monthly reports already e-mailed: a retried DAG task never sends a district's report twice.
-- Idempotent: applied by supervision.report.mail before sending.
create schema if not exists review;

create table if not exists review.report_deliveries (
    scope text not null,                 -- district code, or 310000 for the city's report
    month date not null,                 -- first day of the month reported on
    recipient text not null,
    sent_at timestamptz not null default now(),
    primary key (scope, month, recipient));
comment on table review.report_deliveries is 'Monthly supervision reports e-mailed: scope (district or 310000), month, recipient, when.';
