"""What the REST API shows of each thing: the same facts the staff pages show, no more."""

from rest_framework import serializers

from grants.models import Application, Call, Decision, Document, Payment, PaymentBatch, Programme


class ProgrammeSerializer(serializers.ModelSerializer):
    committee = serializers.CharField(source="committee.code")
    committee_name = serializers.CharField(source="committee.name")

    class Meta:
        model = Programme
        fields = ["id", "slug", "name", "committee", "committee_name", "description", "purpose", "who_may_apply"]


class CallSerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="programme.slug")

    class Meta:
        model = Call
        fields = ["id", "programme", "title", "year", "opens_on", "closes_on", "max_amount"]


class DecisionSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="application_id")
    case_number = serializers.CharField(source="application.case_number")
    meeting_date = serializers.DateField(source="meeting.held_on", allow_null=True, default=None)

    class Meta:
        model = Decision
        fields = [
            "id",
            "case",
            "case_number",
            "outcome",
            "amount",
            "reasons",
            "conditions",
            "decided_at",
            "by_committee",
            "delegation_point",
            "meeting_date",
            "protocol_paragraph",
        ]


class DocumentSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="application_id")
    download = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "case",
            "kind",
            "filename",
            "content_type",
            "size",
            "sha256",
            "version",
            "created_at",
            "download",
        ]

    def get_download(self, document: Document) -> str:
        return f"/api/v1/documents/{document.pk}/download/"


class CaseSerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="call.programme.slug")
    committee = serializers.CharField(source="call.programme.committee.code")
    call = serializers.IntegerField(source="call_id")
    organisation = serializers.CharField(source="organisation.name")
    organisation_number = serializers.CharField(source="organisation.org_number")

    class Meta:
        model = Application
        fields = [
            "id",
            "case_number",
            "title",
            "status",
            "programme",
            "committee",
            "call",
            "organisation",
            "organisation_number",
            "requested_amount",
            "period_start",
            "period_end",
            "submitted_at",
        ]


class CaseDetailSerializer(CaseSerializer):
    decision = DecisionSerializer(allow_null=True, default=None)
    documents = DocumentSerializer(many=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "description", "decision", "documents"]


class PaymentSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="application_id")
    case_number = serializers.CharField(source="application.case_number")
    payment_file = serializers.IntegerField(source="batch_id", allow_null=True)

    class Meta:
        model = Payment
        fields = ["id", "case", "case_number", "sequence", "amount", "status", "payment_file", "attested_at", "paid_on"]


class PaymentFileSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = PaymentBatch
        fields = ["id", "reference", "status", "created_at", "execution_date", "count", "total", "download"]

    def get_download(self, batch: PaymentBatch) -> str:
        return f"/api/v1/payment-files/{batch.pk}/download/"


class PaidSerializer(serializers.Serializer):
    paid_on = serializers.DateField(
        required=False, allow_null=True, help_text="Dagen banken betalade (standard: i dag)."
    )
