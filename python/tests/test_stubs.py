"""The type stubs (roster-stubs/__init__.pyi) say what the module has:
every class of the stubs exists, derives from what the stubs say among
the builtin containers, and has every method the stubs give it."""
import ast
import os

import roster

STUB = os.path.join(os.path.dirname(__file__), os.pardir, "roster-stubs",
                    "__init__.pyi")
CONTAINERS = {"Dict": dict, "List": list, "Tuple": tuple, "Set": set}


def runtime_types():
    st = roster.Store()
    P = st.declare("P { k: u32 key; v: u8 = 0 } dynamic")
    p = P(1)
    return {"Store": roster.Store, "Record": P, "RecordType": type(P),
            "Query": type(P.where()), "Field": type(P.v),
            "Condition": type(P.v == 1), "Group": type(st.group()),
            "Attrs": type(p.__dict__), "Type": type(roster.u8)}


def test_stub_classes_match_the_module():
    tree = ast.parse(open(STUB).read())
    rt = runtime_types()
    seen = set()
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name not in rt:
            continue
        seen.add(node.name)
        cls = rt[node.name]
        for base in node.bases:
            name = base.value.id if isinstance(base, ast.Subscript) else None
            if name in CONTAINERS:
                assert issubclass(cls, CONTAINERS[name]), (node.name, name)
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name not in (
                    "__getattr__", "__init_subclass__"):
                assert hasattr(cls, item.name), (node.name, item.name)
    assert seen == set(rt)
