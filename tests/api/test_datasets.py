"""Dataset upload: what is stored, what is refused, and that paths cannot escape."""

import pytest

from tests.helpers import ApiClient, reference_table


def upload(api: ApiClient, content: bytes, name: str = "x.csv"):
    return api.post("/api/datasets", files={"file": (name, content, "text/csv")})


def test_upload_describes_and_stores_the_file(api: ApiClient):
    response = upload(api, reference_table().encode(), "ref erence.csv")
    assert response.status_code == 201
    body = response.json()
    assert body["rows"] == 12
    assert body["columns"] == ["ID", "Fe", "Ni", "Processing", "UTS", "El"]
    assert body["column_types"]["UTS"] == "numeric"
    assert body["column_types"]["Processing"] == "text"
    assert body["filename"] == "ref erence.csv"
    assert api.data_dir is not None
    assert (api.data_dir / body["path"]).read_bytes() == reference_table().encode()
    listed = api.get("/api/datasets").json()
    assert listed["items"][0]["dataset_id"] == body["dataset_id"]
    detail = api.get(f"/api/datasets/{body['dataset_id']}").json()
    assert detail["preview"][0]["ID"] == "R0" and len(detail["preview"]) == 12


def test_gb18030_and_semicolons_are_read(api: ApiClient):
    text = "编号;Fe;UTS\nA;1;500\nB;2;600\n"
    response = upload(api, text.encode("gb18030"))
    assert response.status_code == 201, response.text
    assert response.json()["columns"] == ["编号", "Fe", "UTS"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"a,b\n", "no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"1,2\n3,4\n", "header"),
        (b"a,a\n1,2\n", "repeats"),
        (b",b\n1,2\n", "empty column name"),
        (b'a,b\n1,"2\n', "not a readable CSV"),
    ],
)
def test_unusable_files_are_400(api: ApiClient, content: bytes, fragment: str):
    before = len(api.get("/api/datasets").json()["items"])
    response = upload(api, content)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "INVALID_CONFIG"
    assert any(fragment in message for message in response.json()["details"])
    assert len(api.get("/api/datasets").json()["items"]) == before


def test_missing_file_field_is_422(api: ApiClient):
    response = api.post("/api/datasets", data={"nothing": "here"})
    assert response.status_code == 422
    assert response.json()["error"] == "INVALID_CONFIG"


def test_unknown_dataset_is_404(api: ApiClient):
    response = api.get("/api/datasets/987654")
    assert response.status_code == 404 and response.json()["error"] == "NOT_FOUND"


def test_unknown_route_uses_the_envelope(api: ApiClient):
    response = api.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"] == "NOT_FOUND"


def test_health_reports_the_database(api: ApiClient):
    assert api.get("/api/health").json() | {"version": None} == {
        "status": "ok",
        "database": "ok",
        "version": None,
    }


def test_a_windows_1252_file_is_read_as_such_and_stored_as_utf8(api: ApiClient):
    text = "ID,Test temperature (°C),Lab,UTS\nA1,25,Müller,500\nA2,600,Café,610\n"
    raw = text.encode("cp1252")
    preview = api.post("/api/datasets/preview", files={"file": ("eu.csv", raw, "text/csv")})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["encoding"] == "cp1252" and body["rows"] == 2
    assert body["columns"] == ["ID", "Test temperature (°C)", "Lab", "UTS"]
    assert body["preview"][0]["Lab"] == "Müller"
    before = len(api.get("/api/datasets").json()["items"])  # a preview stores nothing

    stored = upload(api, raw, "eu.csv")
    assert stored.status_code == 201, stored.text
    assert stored.json()["columns"][1] == "Test temperature (°C)"
    assert api.data_dir is not None
    assert (api.data_dir / stored.json()["path"]).read_text(encoding="utf-8") == text
    assert len(api.get("/api/datasets").json()["items"]) == before + 1

    # Named wrongly, it is refused with the reason.
    named = api.post(
        "/api/datasets", files={"file": ("eu.csv", raw, "text/csv")}, data={"encoding": "utf-8"}
    )
    assert named.status_code == 400 and "not utf-8 text" in str(named.json()["details"])
    unknown = api.post(
        "/api/datasets/preview",
        files={"file": ("eu.csv", raw, "text/csv")},
        data={"encoding": "ebcdic"},
    )
    assert unknown.status_code == 422
