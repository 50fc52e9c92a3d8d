-- Skill certificates (latest delivery) with the issuing org's district (RULES.md: certificate
-- alerts go to the issuing org, 機構編號 of the certificate).
-- Indexed on certificate_no: CERTIFICATE_MISMATCH looks up the certificates of its recomputed claims.
{{ config(post_hook="create index if not exists fct_certificates_no_idx on {{ this }} (certificate_no)") }}
with

certificates as (

    select * from {{ ref('stg_assessment__certificates') }}

),

orgs as (

    select * from {{ ref('stg_assessment__evaluation_orgs') }}

)

select
    certificates.certificate_no,
    certificates.result_id,
    certificates.person_key,
    certificates.id_masked,
    certificates.org_id,
    certificates.occupation_code,
    orgs.district_code,
    certificates.skill_level,
    certificates.issued_on,
    certificates.delivery_date
from certificates
left join orgs on orgs.org_id = certificates.org_id
