"""Who is who: how people sign in (passwords, e-legitimation, the municipality's single
sign-on, a second factor for staff) and the audit trail of sign-ins, roles, memberships and
association verifications. An app of its own (label "identity") inside grants."""
