"""Scene ``{{ scene }}`` of act ``{{ act }}``, through the API."""

from fastapi.testclient import TestClient


def test_{{ scene }}_answers(client: TestClient) -> None:
    response = client.get("/{{ act_path }}/{{ scene_path }}")
    assert response.status_code == 200
    assert response.json() == {"act": "{{ act }}", "scene": "{{ scene }}"}
