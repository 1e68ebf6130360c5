"""Role resolution (xác định vai trò): ``tthc.role``, else the lane name.

Lanes may be named with the role code (``chuyen_vien``) or in Vietnamese ("Chuyên viên",
"Lãnh đạo VP UBND tỉnh", …). Names are compared without accents, case or punctuation, and
"Văn phòng" / "Ủy ban nhân dân" are folded to "VP" / "UBND" so the usual spellings match.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection

#: The role codes of DESIGN.md's user table (services/roles.py is the configured source;
#: services pass their configured set as ``known_roles``).
KNOWN_ROLES = frozenset({
    "designer", "mot_cua", "chuyen_vien", "lanh_dao_phong", "lanh_dao_so", "van_thu",
    "vp_chuyen_vien", "vp_lanh_dao", "chu_tich", "pho_chu_tich", "auditor", "admin",
})

# Normalised lane name -> role code. Keys are written the way normalise() returns them.
_LANE_ALIASES = {
    "mot_cua": "mot_cua",
    "bo_phan_mot_cua": "mot_cua",
    "cong_chuc_bo_phan_mot_cua": "mot_cua",
    "bo_phan_tiep_nhan_va_tra_ket_qua": "mot_cua",
    "trung_tam_phuc_vu_hanh_chinh_cong": "mot_cua",
    "tiep_nhan_va_tra_ket_qua": "mot_cua",
    "chuyen_vien": "chuyen_vien",
    "chuyen_vien_phong": "chuyen_vien",
    "chuyen_vien_xu_ly": "chuyen_vien",
    "chuyen_vien_thu_ly": "chuyen_vien",
    "chuyen_vien_phong_chuyen_mon": "chuyen_vien",
    "cong_chuc": "chuyen_vien",
    "cong_chuc_chuyen_mon": "chuyen_vien",
    "lanh_dao_phong": "lanh_dao_phong",
    "truong_phong": "lanh_dao_phong",
    "pho_truong_phong": "lanh_dao_phong",
    "lanh_dao_phong_chuyen_mon": "lanh_dao_phong",
    "lanh_dao_so": "lanh_dao_so",
    "giam_doc_so": "lanh_dao_so",
    "pho_giam_doc_so": "lanh_dao_so",
    "giam_doc": "lanh_dao_so",
    "ban_giam_doc_so": "lanh_dao_so",
    "van_thu": "van_thu",
    "van_thu_so": "van_thu",
    "vp_chuyen_vien": "vp_chuyen_vien",
    "chuyen_vien_vp": "vp_chuyen_vien",
    "chuyen_vien_vp_ubnd": "vp_chuyen_vien",
    "vp_lanh_dao": "vp_lanh_dao",
    "lanh_dao_vp": "vp_lanh_dao",
    "lanh_dao_vp_ubnd": "vp_lanh_dao",
    "chanh_vp": "vp_lanh_dao",
    "pho_chanh_vp": "vp_lanh_dao",
    "chanh_vp_ubnd": "vp_lanh_dao",
    "chu_tich": "chu_tich",
    "chu_tich_ubnd": "chu_tich",
    "pho_chu_tich": "pho_chu_tich",
    "pho_chu_tich_ubnd": "pho_chu_tich",
    "thiet_ke_quy_trinh": "designer",
    "nguoi_thiet_ke_quy_trinh": "designer",
    "thanh_tra_kiem_soat_tthc": "auditor",
    "quan_tri_he_thong": "admin",
}

_FOLDS = (
    (re.compile(r"\bvan phong\b"), "vp"),
    (re.compile(r"\buy ban nhan dan\b"), "ubnd"),
    (re.compile(r"\bubnd (tinh|huyen|xa|thanh pho)$"), "ubnd"),
    (re.compile(r" tinh$"), ""),
)


def _ascii_words(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_text).split())


@functools.lru_cache(maxsize=1024)
def normalise(text: str) -> str:
    """``"Lãnh đạo Văn phòng UBND tỉnh"`` → ``"lanh_dao_vp_ubnd"`` (accent-, case-, punctuation-free)."""
    words = _ascii_words(text)
    for pattern, replacement in _FOLDS:
        words = pattern.sub(replacement, words).strip()
    return words.replace(" ", "_")


def role_from_lane(lane: str | None, known_roles: Collection[str] = KNOWN_ROLES) -> str | None:
    """The role code a lane name stands for, or ``None`` when it names no known role."""
    if not lane or not lane.strip():
        return None
    stripped = lane.strip()
    if stripped in known_roles:
        return stripped
    key = normalise(stripped)
    if key in known_roles:
        return key
    role = _LANE_ALIASES.get(key)
    return role if role is not None and role in known_roles else None


def normalise_code(text: str) -> str:
    """A code-like value as written by hand: ``"Chủ tịch UBND tỉnh"`` → ``"chu_tich_ubnd_tinh"``."""
    return _ascii_words(text).replace(" ", "_")
