from tests.conftest import prediction


def test_an_analyst_ingests_a_batch_and_reads_it_back(api, alice, credit_v1):
    client = api(alice)
    answer = client.post(
        "/api/v1/models/credit-risk/predictions/",
        {"version": "v1", "records": [prediction(i) for i in range(3)]},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["accepted"] == 3
    listed = client.get("/api/v1/models/credit-risk/predictions/").json()
    assert listed["count"] == 3
