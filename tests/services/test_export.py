from backend.services.export import formula_safe, to_csv


def test_formula_cells_are_quoted_and_numbers_stay_numbers():
    risky = ["=1+1", "+1", "-x", "@SUM(A1)", "\tx", "\rx"]
    assert [formula_safe(v) for v in risky] == ["'" + v for v in risky]
    assert [formula_safe(v) for v in (-2.5, -3, "a-b", "", None)] == [-2.5, -3, "a-b", "", None]
    body = to_csv(["id", "-v"], [{"id": "=cmd", "-v": -2.5}, {"id": "ok", "-v": None}])
    assert body.decode() == "id,'-v\n'=cmd,-2.5\nok,\n"
