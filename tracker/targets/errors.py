"""The error a targets file raises, apart from the parser so that commands which only read
the cached model (record, history, status) need not import the parser to catch it."""


class TargetsFileError(ValueError):
    """Every problem found in a targets file, each naming its line and field."""

    def __init__(self, path: str, problems: list[str]):
        self.path, self.problems = path, problems
        super().__init__(f"{path}: {len(problems)} problem(s)\n" + "\n".join(f"  {p}" for p in problems))
