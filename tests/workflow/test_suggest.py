import pandas as pd
import pytest

from backend.workflow.suggest import did_you_mean
from backend.workflow.task_data import TaskDataError, prepare

COLUMNS = ["ID", "Fe", "Ni", "YS(MPa)", "UTS(MPa)", "El(%)"]


def test_the_closest_column_is_suggested():
    assert did_you_mean(["UTS (MPa)"], COLUMNS) == " (did you mean 'UTS(MPa)'?)"
    assert did_you_mean(["uts(mpa)"], COLUMNS) == " (did you mean 'UTS(MPa)'?)"
    assert did_you_mean(["Elongation"], COLUMNS) == ""
    assert did_you_mean(["YS(Mpa)", "fe"], COLUMNS) == (
        " (did you mean 'YS(MPa)' for 'YS(Mpa)', 'Fe' for 'fe'?)"
    )


def test_a_mistyped_target_is_named_with_a_suggestion():
    reference = pd.DataFrame({"ID": ["R1", "R2"], "Fe": [1.0, 2.0], "UTS(MPa)": [500.0, 600.0]})
    test = pd.DataFrame({"ID": ["S1"], "Fe": [1.5]})
    with pytest.raises(TaskDataError, match=r"did you mean 'UTS\(MPa\)'\?"):
        prepare(test, reference, ["UTS(Mpa)"])
    with pytest.raises(TaskDataError, match=r"did you mean 'Fe'\?"):
        prepare(test, reference, ["UTS(MPa)"], feature_columns=["FE"])
