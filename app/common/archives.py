"""Zip archives (XLSX workbooks) checked from their central directory before anything is inflated: a few kilobytes
can otherwise unpack to gigabytes ("zip bombs").

Python's zipfile never inflates a member beyond the size its directory entry declares (it stops there and the
CRC check fails), so the declared sizes bound the work of any later reader, openpyxl included."""
import zipfile
from dataclasses import dataclass


class ArchiveRefused(ValueError):
    """The archive is unreadable or would inflate beyond the limits; the message is for the uploader (Chinese)."""


@dataclass(frozen=True)
class Limits:
    """How much an archive may hold once inflated."""

    total_bytes: int = 128 * 1024 * 1024
    member_bytes: int = 64 * 1024 * 1024
    members: int = 500


def check_zip(stream, limits: Limits = Limits()) -> None:
    """Raise ArchiveRefused unless the archive's directory declares sizes within the limits (stream rewound)."""
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise ArchiveRefused("无法读取该 XLSX 文件，请确认文件未损坏") from None
    finally:
        stream.seek(0)
    if len(members) > limits.members:
        raise ArchiveRefused(f"XLSX 文件包含的部件过多（超过 {limits.members} 个）")
    if any(m.file_size > limits.member_bytes for m in members) or \
            sum(m.file_size for m in members) > limits.total_bytes:
        raise ArchiveRefused(f"XLSX 文件解压后超过 {limits.total_bytes // (1024 * 1024)} MB，请拆分后再导入")
