"""tests/tour.py: which README blocks make the tour, and a failing step named by its README line."""
import subprocess

from tests.tour import blocks, readme_line, script

README = """# Title

```bash
make run
```

## API tour

Some prose.

```bash
X=1
```

```json
{"not": "run"}
```

### A subsection

```bash
echo "$X"
false   # the failing step
echo never
```

## Configuration

```bash
not part of the tour
```
"""


def test_only_the_bash_blocks_of_the_tour_section_in_order_with_their_readme_lines():
    found = blocks(README)
    assert [text for _, text in found] == ["X=1\n", 'echo "$X"\nfalse   # the failing step\necho never\n']
    lines = README.splitlines()
    assert [lines[line - 1] for line, _ in found] == ["X=1", 'echo "$X"']


def test_a_readme_without_a_tour_has_no_blocks():
    assert blocks("# Title\n\n## Quick start\n\n```bash\nmake run\n```\n") == []


def test_the_failing_step_is_named_by_its_readme_line(tmp_path):
    text, starts = script(blocks(README))
    marks = tmp_path / "failed-at"
    run = subprocess.run(["bash", "-c", text], capture_output=True, text=True, env={"TOUR_FAILED_AT": str(marks)})
    assert run.returncode != 0 and run.stdout == "1\n"  # variables carry from one block to the next
    failed = int(marks.read_text().split()[-1])
    assert README.splitlines()[readme_line(failed, starts) - 1] == "false   # the failing step"
