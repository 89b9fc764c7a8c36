import pytest, json
from coding_app.roles import Role
from tests.review.stats_support import note_with, review_submit
from review.stats.report import agreement_report, agreement_report_csv_rows

@pytest.mark.django_db
def test_smoke(make_user):
    a, b = make_user(Role.CODER), make_user(Role.CODER)
    n1 = note_with(["E1165", "I10", "E119"], prefix="s1")
    review_submit(n1, a, {"E119": "reject", "E1165": "E1164"}, added=["J449"])
    review_submit(n1, b, {"I10": "reject"}, slot=2, seconds=3)
    from review.stats.rollup import stats_refresh
    stats_refresh()
    r = agreement_report()
    print(json.dumps(r, indent=1, default=str)[:6000])
    rows = list(agreement_report_csv_rows(r)); print(len(rows), rows[:5])
