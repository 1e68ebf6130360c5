"""The demo library (bpmn/library/*.bpmn) runs on raw SpiffWorkflow and is well drawn.

These tests deliberately use SpiffWorkflow and lxml only, not quytrinh's linter or engine, so that
a broken library file is caught even when those are broken too.

SpiffWorkflow's default script engine evaluates gateway conditions with Python ``eval``. That is
acceptable here only because the files are our own; the product engine evaluates conditions with
a restricted evaluator. ``test_conditions_fit_the_restricted_grammar`` keeps the library inside
that evaluator's grammar.
"""
import ast
import math
import re
import unicodedata
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = ROOT / 'bpmn' / 'library'
FLAVOURS = ROOT / 'tests' / 'fixtures' / 'bpmn' / 'flavours'
LIBRARY_FILES = sorted(LIBRARY.glob('*.bpmn'))
FLAVOUR_FILES = sorted(FLAVOURS.glob('*.bpmn'))

NS = {
    'bpmn': 'http://www.omg.org/spec/BPMN/20100524/MODEL',
    'bpmndi': 'http://www.omg.org/spec/BPMN/20100524/DI',
    'dc': 'http://www.omg.org/spec/DD/20100524/DC',
    'di': 'http://www.omg.org/spec/DD/20100524/DI',
    'camunda': 'http://camunda.org/schema/1.0/bpmn',
    'zeebe': 'http://camunda.org/schema/zeebe/1.0',
    'spiffworkflow': 'http://spiffworkflow.org/bpmn/schema/1.0/core',
}
PROPERTY_XPATH = ('./bpmn:extensionElements/camunda:properties/camunda:property'
                  ' | ./bpmn:extensionElements/zeebe:properties/zeebe:property'
                  ' | ./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property')
FLOW_NODE_TAGS = ('startEvent', 'endEvent', 'userTask', 'manualTask', 'exclusiveGateway',
                  'parallelGateway', 'inclusiveGateway', 'intermediateCatchEvent',
                  'intermediateThrowEvent', 'boundaryEvent', 'task')
ROLES = {'mot_cua', 'chuyen_vien', 'lanh_dao_phong', 'lanh_dao_so', 'van_thu', 'vp_chuyen_vien',
         'vp_lanh_dao', 'chu_tich', 'pho_chu_tich', 'designer'}
STEPS = {'receive', 'vp_review', 'chairman_approval', 'return_result'}
MINUTES_PER_DAY = 480


def _q(tag):
    prefix, local = tag.split(':')
    return f'{{{NS[prefix]}}}{local}'


def _doc(path):
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()


def _props(el):
    return {p.get('name'): p.get('value') for p in el.xpath(PROPERTY_XPATH, namespaces=NS)}


def _allocation_minutes(text):
    """A deliberately small reading of the allocation syntax used in our own files."""
    text = text.strip()
    if text == '0':
        return 0
    iso = re.fullmatch(r'P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+)M)?)?', text)
    short = re.fullmatch(r'(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+)m)?', text)
    match = iso if text.startswith('P') else short
    assert match and text not in ('P', 'PT'), f'unreadable allocation {text!r}'
    days, hours, minutes = match.groups()
    total = float(days or 0) * MINUTES_PER_DAY + float(hours or 0) * 60 + int(minutes or 0)
    assert total == int(total), f'allocation {text!r} is not whole minutes'
    return int(total)


class Graph:
    """Flow graph of the single executable process of a file."""

    def __init__(self, path):
        self.root = _doc(path)
        self.process = self.root.find('bpmn:process', NS)
        self.props = _props(self.process)
        self.nodes = {}
        self.flows = {}
        for el in self.process:
            if not isinstance(el.tag, str):
                continue
            local = etree.QName(el).localname
            if local == 'sequenceFlow':
                self.flows[el.get('id')] = el
            elif local in FLOW_NODE_TAGS or local.endswith('Task') or local.endswith('Gateway'):
                self.nodes[el.get('id')] = el
        self.succ = {n: [] for n in self.nodes}
        for f in self.flows.values():
            self.succ[f.get('sourceRef')].append(f.get('targetRef'))
        self.starts = [n for n, el in self.nodes.items() if etree.QName(el).localname == 'startEvent']

    def kind(self, node_id):
        return etree.QName(self.nodes[node_id]).localname

    def step(self, node_id):
        return _props(self.nodes[node_id]).get('tthc.step')

    def allocation(self, node_id):
        if self.kind(node_id) != 'userTask':
            return 0
        return _allocation_minutes(_props(self.nodes[node_id])['tthc.allocation'])

    def budget(self):
        """(legal, target, allocated, critical path): loop-back edges (DFS back edges from the start
        events) removed, longest start-to-end path; a parallel split counts its longest branch."""
        back, state = set(), {}

        def dfs(u):
            state[u] = 'open'
            for v in self.succ[u]:
                if state.get(v) == 'open':
                    back.add((u, v))
                elif v not in state:
                    dfs(v)
            state[u] = 'done'

        for s in self.starts:
            dfs(s)
        memo = {}

        def longest(u):
            if u not in memo:
                if self.kind(u) == 'endEvent':
                    memo[u] = (0, [u])
                else:
                    options = [longest(v) for v in self.succ[u] if (u, v) not in back]
                    options = [o for o in options if o is not None]
                    best = max(options, key=lambda o: o[0], default=None)
                    memo[u] = None if best is None else (best[0] + self.allocation(u), [u] + best[1])
            return memo[u]

        allocated, path = max((longest(s) for s in self.starts), key=lambda o: o[0])
        legal = round(float(self.props['tthc.legal_days']) * MINUTES_PER_DAY)
        reduction = float(self.props.get('tthc.reduction', '0.3'))
        target = math.floor(round(legal * (1 - reduction), 6))
        return legal, target, allocated, path

    def chairman_reachable_without_vp(self):
        """Chairman tasks reachable from a start event or from a chairman task once the vp_review
        tasks are removed (the VP_REVIEW_BYPASSED rule)."""
        vp = {n for n in self.nodes if self.step(n) == 'vp_review'}
        chairman = {n for n in self.nodes if self.step(n) == 'chairman_approval'}
        seen, stack = set(), [v for s in self.starts + sorted(chairman) for v in self.succ[s]]
        while stack:
            u = stack.pop()
            if u in seen or u in vp:
                continue
            seen.add(u)
            stack.extend(self.succ[u])
        return sorted(seen & chairman)


# --------------------------------------------------------------------------- running on SpiffWorkflow

def _workflow(path):
    parser = CamundaParser()
    parser.add_bpmn_file(str(path))
    process_ids = parser.get_process_ids()
    assert len(process_ids) == 1, process_ids
    spec = parser.get_spec(process_ids[0])
    return BpmnWorkflow(spec, parser.get_subprocess_specs(process_ids[0]))


def drive(path, plan, start_data=None):
    """Run the workflow, completing READY user tasks in the order of ``plan``.

    ``plan`` is a list of ``(task id, data)``. Returns (completed task ids, the ids of the READY user
    tasks seen before each completion, the workflow)."""
    wf = _workflow(path)
    if start_data:
        wf.get_next_task(state=TaskState.READY).set_data(**start_data)
    wf.do_engine_steps()
    completed, ready_seen = [], []
    for task_id, data in plan:
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        ready_ids = sorted(t.task_spec.name for t in ready)
        ready_seen.append(ready_ids)
        matching = [t for t in ready if t.task_spec.name == task_id]
        assert matching, f'{task_id} is not ready after {completed}; ready: {ready_ids}'
        task = matching[0]
        task.set_data(**data)
        task.run()
        completed.append(task_id)
        wf.do_engine_steps()
    leftover = [t.task_spec.name for t in wf.get_tasks(state=TaskState.READY, manual=True)]
    assert not leftover, f'plan finished but tasks are still ready: {leftover}'
    assert wf.is_completed(), f'workflow not completed after {completed}'
    return completed, ready_seen, wf


def _ended_at(wf):
    return sorted(t.task_spec.name for t in wf.get_tasks(state=TaskState.COMPLETED)
                  if t.task_spec.name.startswith('EndEvent_'))


APPROVE = {'decision': 'approve', 'opinion': 'Đồng ý.'}
RETURN = {'decision': 'return', 'opinion': 'Đề nghị bổ sung, hoàn thiện hồ sơ.'}
RECEIVE = {'applicant_name': 'Hội Nông dân thủy sản An Giang', 'documents_complete': True}
NOTE = {'opinion': 'Đã xử lý.'}

# ---- chairman_decision.bpmn
CD = LIBRARY / 'chairman_decision.bpmn'
CD_DEPARTMENT = ['Task_ThamDinh', 'Task_LanhDaoPhong', 'Task_LanhDaoSo']
CD_VP = ['Task_VP_ThamTra', 'Task_VP_LanhDao']
CD_AFTER = ['Task_ChuTichKy', 'Task_VanThuUBND', 'Task_TraKetQua']


def _cd_plan(vp_decisions):
    plan = [('Task_TiepNhan', RECEIVE), ('Task_VanThuSo', {'incoming_number': '125/SNV'})]
    for decision in vp_decisions:
        plan += [(t, NOTE) for t in CD_DEPARTMENT]
        plan += [('Task_VP_ThamTra', {'opinion': 'Hồ sơ đủ điều kiện.', 'proposal': decision}),
                 ('Task_VP_LanhDao', APPROVE if decision == 'approve' else RETURN)]
    plan += [('Task_ChuTichKy', NOTE), ('Task_VanThuUBND', {'decision_number': '1234/QĐ-UBND'}),
             ('Task_TraKetQua', {'received_by': 'Nguyễn Văn A'})]
    return plan


def test_chairman_decision_approve_path():
    done, _, wf = drive(CD, _cd_plan(['approve']))
    assert done == ['Task_TiepNhan', 'Task_VanThuSo', *CD_DEPARTMENT, *CD_VP, *CD_AFTER]
    assert _ended_at(wf) == ['EndEvent_DaTraKetQua']


def test_chairman_decision_returned_by_van_phong_once_then_approved():
    done, _, wf = drive(CD, _cd_plan(['return', 'approve']))
    assert done == ['Task_TiepNhan', 'Task_VanThuSo', *CD_DEPARTMENT, *CD_VP,
                    *CD_DEPARTMENT, *CD_VP, *CD_AFTER]
    # The chairman sees the Văn phòng's final decision, not the earlier 'return'.
    assert wf.get_next_task(spec_name='Task_ChuTichKy').data['decision'] == 'approve'


def test_chairman_decision_every_chairman_step_follows_a_fresh_vp_review():
    """The runtime guard's invariant holds on the paths the file allows: after the department's last
    submission (Task_LanhDaoSo), a vp_review task completes before Task_ChuTichKy."""
    done, _, _ = drive(CD, _cd_plan(['return', 'return', 'approve']))
    graph = Graph(CD)
    chairman_at = done.index('Task_ChuTichKy')
    last_submission = max(i for i, t in enumerate(done[:chairman_at]) if t == 'Task_LanhDaoSo')
    assert any(graph.step(t) == 'vp_review' for t in done[last_submission:chairman_at])


# ---- department_parallel.bpmn
DP = LIBRARY / 'department_parallel.bpmn'
DP_CONSULT = ['Task_YKien_SoNNMT', 'Task_YKien_CongAn']


def _dp_plan(consult_order, ldp_decisions=('approve',)):
    plan = [('Task_TiepNhan', RECEIVE), ('Task_KiemTra', {'opinion': 'Hồ sơ hợp lệ.'})]
    plan += [(t, {'snnmt_opinion': 'Thống nhất.', 'snnmt_agrees': True} if t == 'Task_YKien_SoNNMT'
              else {'pccc_opinion': 'Đạt yêu cầu PCCC.', 'pccc_agrees': True}) for t in consult_order]
    for decision in ldp_decisions:
        plan += [('Task_ThamDinh', {'opinion': 'Đủ điều kiện cấp phép.'}),
                 ('Task_LanhDaoPhong', APPROVE if decision == 'approve' else RETURN)]
    plan += [('Task_LanhDaoSo', NOTE), ('Task_VanThu', {'permit_number': '45/GPXD'}),
             ('Task_TraKetQua', {'received_by': 'Công ty TNHH Xây dựng Long Xuyên'})]
    return plan


@pytest.mark.parametrize('order', [DP_CONSULT, DP_CONSULT[::-1]], ids=['snnmt_first', 'cong_an_first'])
def test_department_parallel_consultation_both_branches(order):
    done, ready_seen, wf = drive(DP, _dp_plan(order))
    assert done == ['Task_TiepNhan', 'Task_KiemTra', *order, 'Task_ThamDinh', 'Task_LanhDaoPhong',
                    'Task_LanhDaoSo', 'Task_VanThu', 'Task_TraKetQua']
    # Both consultations are open at the same time, and the join waits for the second one.
    assert ready_seen[2] == sorted(DP_CONSULT)
    assert ready_seen[3] == [order[1]]
    # Both agencies' opinions reach the specialist after the join.
    data = wf.get_next_task(spec_name='Task_ThamDinh').data
    assert data['snnmt_agrees'] is True and data['pccc_agrees'] is True
    assert _ended_at(wf) == ['EndEvent_DaTraKetQua']


def test_department_parallel_returned_by_head_of_division_once():
    done, _, _ = drive(DP, _dp_plan(DP_CONSULT, ('return', 'approve')))
    assert done == ['Task_TiepNhan', 'Task_KiemTra', *DP_CONSULT, 'Task_ThamDinh', 'Task_LanhDaoPhong',
                    'Task_ThamDinh', 'Task_LanhDaoPhong', 'Task_LanhDaoSo', 'Task_VanThu',
                    'Task_TraKetQua']


# ---- commune_level.bpmn
CL = LIBRARY / 'commune_level.bpmn'


def _cl_plan(decisions):
    plan = [('Task_TiepNhan', RECEIVE)]
    for decision in decisions:
        plan += [('Task_KiemTra', {'opinion': 'Đã xác minh.', 'verification_needed': False}),
                 ('Task_ChuTichXaKy', APPROVE if decision == 'approve' else RETURN)]
    return plan + [('Task_VanThuXa', {'register_number': '17/XN'}),
                   ('Task_TraKetQua', {'received_by': 'Trần Thị B'})]


def test_commune_level_approve_path():
    done, _, wf = drive(CL, _cl_plan(['approve']))
    assert done == ['Task_TiepNhan', 'Task_KiemTra', 'Task_ChuTichXaKy', 'Task_VanThuXa', 'Task_TraKetQua']
    assert _ended_at(wf) == ['EndEvent_DaTraKetQua']


def test_commune_level_returned_once_then_signed():
    done, _, _ = drive(CL, _cl_plan(['return', 'approve']))
    assert done == ['Task_TiepNhan', 'Task_KiemTra', 'Task_ChuTichXaKy', 'Task_KiemTra',
                    'Task_ChuTichXaKy', 'Task_VanThuXa', 'Task_TraKetQua']


# ---- procedure_approval.bpmn
PA = LIBRARY / 'procedure_approval.bpmn'
SUBMIT = ('Task_TrinhPheDuyet', {'submission_note': 'Phiên bản 2: cắt giảm 30 % thời gian.'})
VP_REVIEW = [('Task_VP_ThamTra', {'opinion': 'Quy trình phù hợp.'})]


@pytest.mark.parametrize('case, start_data, plan, expected_end', [
    ('vp_then_approve', {'requires_vp_review': True},
     [SUBMIT, *VP_REVIEW, ('Task_VP_YKien', APPROVE), ('Task_ChuTichPheDuyet', APPROVE)],
     'EndEvent_SanSangCongBo'),
    ('no_vp_needed', {'requires_vp_review': False},
     [SUBMIT, ('Task_ChuTichPheDuyet', APPROVE)], 'EndEvent_SanSangCongBo'),
    ('vp_returns_to_designer', {'requires_vp_review': True},
     [SUBMIT, *VP_REVIEW, ('Task_VP_YKien', RETURN), SUBMIT, *VP_REVIEW, ('Task_VP_YKien', APPROVE),
      ('Task_ChuTichPheDuyet', APPROVE)], 'EndEvent_SanSangCongBo'),
    ('chairman_returns_to_designer', {'requires_vp_review': True},
     [SUBMIT, *VP_REVIEW, ('Task_VP_YKien', APPROVE), ('Task_ChuTichPheDuyet', RETURN), SUBMIT, *VP_REVIEW,
      ('Task_VP_YKien', APPROVE), ('Task_ChuTichPheDuyet', APPROVE)], 'EndEvent_SanSangCongBo'),
    ('chairman_rejects', {'requires_vp_review': True},
     [SUBMIT, *VP_REVIEW, ('Task_VP_YKien', APPROVE),
      ('Task_ChuTichPheDuyet', {'decision': 'reject', 'opinion': 'Không phù hợp.'})],
     'EndEvent_KhongPheDuyet'),
])
def test_procedure_approval_paths(case, start_data, plan, expected_end):
    done, _, wf = drive(PA, plan, start_data)
    assert done == [task_id for task_id, _ in plan]
    assert _ended_at(wf) == [expected_end]


def test_procedure_approval_vp_review_precedes_every_chairman_step_when_required():
    plan = [SUBMIT, *VP_REVIEW, ('Task_VP_YKien', APPROVE), ('Task_ChuTichPheDuyet', RETURN), SUBMIT,
            *VP_REVIEW, ('Task_VP_YKien', APPROVE), ('Task_ChuTichPheDuyet', APPROVE)]
    done, _, _ = drive(PA, plan, {'requires_vp_review': True})
    for i, task_id in enumerate(done):
        if task_id == 'Task_ChuTichPheDuyet':
            last_submit = max(j for j in range(i) if done[j] == 'Task_TrinhPheDuyet')
            assert 'Task_VP_YKien' in done[last_submit:i]


# --------------------------------------------------------------------------- structure of the files

def test_library_has_the_four_procedures():
    assert [p.name for p in LIBRARY_FILES] == ['chairman_decision.bpmn', 'commune_level.bpmn',
                                               'department_parallel.bpmn', 'procedure_approval.bpmn']


EXPECTED_BUDGETS = {
    # file: (legal, target, allocated) in working minutes
    'chairman_decision.bpmn': (4800, 3360, 3330),
    'department_parallel.bpmn': (9600, 6720, 6240),
    'commune_level.bpmn': (1440, 1008, 960),
    'procedure_approval.bpmn': (9600, 6720, 2880),
}


@pytest.mark.parametrize('path', LIBRARY_FILES, ids=lambda p: p.name)
def test_budget_fits_the_cut(path):
    legal, target, allocated, critical = Graph(path).budget()
    assert (legal, target, allocated) == EXPECTED_BUDGETS[path.name]
    assert allocated <= target, critical


def test_department_parallel_counts_the_longest_branch_not_the_sum():
    graph = Graph(DP)
    _, target, allocated, critical = graph.budget()
    assert 'Task_YKien_SoNNMT' in critical and 'Task_YKien_CongAn' not in critical
    # Summing the two consultations would not fit: the file is a real test of the parallel rule.
    assert allocated + graph.allocation('Task_YKien_CongAn') > target


@pytest.mark.parametrize('path', LIBRARY_FILES, ids=lambda p: p.name)
def test_vp_review_before_every_chairman_step(path):
    graph = Graph(path)
    authority = graph.props.get('tthc.authority')
    if authority in ('ubnd_tinh', 'chu_tich_ubnd_tinh'):
        assert any(graph.step(n) == 'vp_review' for n in graph.nodes)
        assert graph.chairman_reachable_without_vp() == []


def test_procedure_approval_has_no_authority_because_it_serves_every_authority():
    """The approval flow skips the Văn phòng when requires_vp_review is false, so it carries no
    tthc.authority (documented in bpmn/library/README.md); linted as ubnd_tinh it is a bypass."""
    graph = Graph(PA)
    assert 'tthc.authority' not in graph.props and 'tthc.code' not in graph.props
    assert graph.chairman_reachable_without_vp() == ['Task_ChuTichPheDuyet']


@pytest.mark.parametrize('path', LIBRARY_FILES, ids=lambda p: p.name)
def test_profile_properties(path):
    graph = Graph(path)
    assert float(graph.props['tthc.legal_days']) > 0
    assert float(graph.props['tthc.reduction']) == 0.3
    user_tasks = [n for n in graph.nodes if graph.kind(n) == 'userTask']
    assert user_tasks
    for task_id in user_tasks:
        props = _props(graph.nodes[task_id])
        assert 'tthc.allocation' in props, task_id
        assert _allocation_minutes(props['tthc.allocation']) >= 0
        assert props.get('tthc.role') in ROLES, task_id
        assert props.get('tthc.step', 'receive') in STEPS, task_id
    steps = [graph.step(n) for n in user_tasks]
    if graph.props.get('tthc.code'):      # a TTHC: received and returned at the one-stop desk
        assert steps.count('receive') == 1 and steps.count('return_result') == 1
        returning = next(n for n in user_tasks if graph.step(n) == 'return_result')
        assert graph.allocation(returning) == 0


@pytest.mark.parametrize('path', LIBRARY_FILES, ids=lambda p: p.name)
def test_no_code_of_any_kind(path):
    root = _doc(path)
    for tag in ('scriptTask', 'serviceTask', 'sendTask', 'businessRuleTask', 'script', 'callActivity'):
        assert not root.findall(f'.//bpmn:{tag}', NS), tag
    assert not root.xpath('.//camunda:script | .//camunda:executionListener | .//camunda:taskListener'
                          ' | .//camunda:inputOutput', namespaces=NS)


ALLOWED_AST = (ast.Expression, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load,
               ast.And, ast.Or, ast.Not, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


@pytest.mark.parametrize('path', LIBRARY_FILES, ids=lambda p: p.name)
def test_conditions_fit_the_restricted_grammar(path):
    graph = Graph(path)
    for flow_id, flow in graph.flows.items():
        cond = flow.find('bpmn:conditionExpression', NS)
        source = flow.get('sourceRef')
        if cond is None:
            continue
        assert graph.kind(source) == 'exclusiveGateway', flow_id
        assert graph.nodes[source].get('default') != flow_id, f'{flow_id} is a default flow with a condition'
        for node in ast.walk(ast.parse(cond.text.strip(), mode='eval')):
            assert isinstance(node, ALLOWED_AST), (flow_id, ast.dump(node))
    for node_id, node in graph.nodes.items():
        if graph.kind(node_id) == 'exclusiveGateway' and len(graph.succ[node_id]) > 1:
            outgoing = [f for f in graph.flows.values() if f.get('sourceRef') == node_id]
            unconditioned = [f.get('id') for f in outgoing if f.find('bpmn:conditionExpression', NS) is None]
            assert unconditioned == ([node.get('default')] if node.get('default') else []), node_id


# --------------------------------------------------------------------------- diagram interchange

def _bounds(shape):
    b = shape.find('dc:Bounds', NS)
    return tuple(float(b.get(k)) for k in ('x', 'y', 'width', 'height'))


def _overlap(a, b):
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _inside(inner, outer):
    return (inner[0] >= outer[0] and inner[1] >= outer[1] and inner[0] + inner[2] <= outer[0] + outer[2]
            and inner[1] + inner[3] <= outer[1] + outer[3])


def check_diagram(path):
    graph = Graph(path)
    root = graph.root
    assert etree.QName(root).localname == 'definitions' and root.nsmap.get('bpmn') == NS['bpmn']
    assert root.get('exporter') == 'Camunda Modeler'
    # one collaboration, one participant, the executable process with a lane set
    participants = root.findall('bpmn:collaboration/bpmn:participant', NS)
    assert len(participants) == 1 and participants[0].get('processRef') == graph.process.get('id')
    assert graph.process.get('isExecutable') == 'true'
    lanes = graph.process.findall('bpmn:laneSet/bpmn:lane', NS)
    assert lanes
    lane_of = {}
    for lane in lanes:
        for ref in lane.findall('bpmn:flowNodeRef', NS):
            assert ref.text not in lane_of, f'{ref.text} in two lanes'
            lane_of[ref.text] = lane.get('id')
    assert set(lane_of) == set(graph.nodes), 'every flow node is in exactly one lane'
    # DI for everything
    plane = root.find('bpmndi:BPMNDiagram/bpmndi:BPMNPlane', NS)
    assert plane.get('bpmnElement') == root.find('bpmn:collaboration', NS).get('id')
    shapes = {s.get('bpmnElement'): s for s in plane.findall('bpmndi:BPMNShape', NS)}
    edges = {e.get('bpmnElement'): e for e in plane.findall('bpmndi:BPMNEdge', NS)}
    expected_shapes = {participants[0].get('id')} | {lane.get('id') for lane in lanes} | set(graph.nodes)
    assert set(shapes) == expected_shapes
    assert set(edges) == set(graph.flows)
    for lane in lanes:
        assert shapes[lane.get('id')].get('isHorizontal') == 'true'
        assert _inside(_bounds(shapes[lane.get('id')]), _bounds(shapes[participants[0].get('id')]))
    # lanes stacked without overlap, nodes inside their lane, no two nodes overlapping
    lane_boxes = sorted((_bounds(shapes[lane.get('id')]) for lane in lanes), key=lambda b: b[1])
    for upper, lower in zip(lane_boxes, lane_boxes[1:]):
        assert upper[1] + upper[3] <= lower[1]
    node_ids = sorted(graph.nodes)
    for node_id in node_ids:
        assert _inside(_bounds(shapes[node_id]), _bounds(shapes[lane_of[node_id]])), node_id
    for i, a in enumerate(node_ids):
        for b in node_ids[i + 1:]:
            assert not _overlap(_bounds(shapes[a]), _bounds(shapes[b])), (a, b)
    # edges: at least two waypoints, start on the source shape and end on the target shape
    for flow_id, flow in graph.flows.items():
        points = [(float(w.get('x')), float(w.get('y'))) for w in edges[flow_id].findall('di:waypoint', NS)]
        assert len(points) >= 2, flow_id
        for point, ref in ((points[0], flow.get('sourceRef')), (points[-1], flow.get('targetRef'))):
            x, y, w, h = _bounds(shapes[ref])
            assert x - 1 <= point[0] <= x + w + 1 and y - 1 <= point[1] <= y + h + 1, (flow_id, ref)
    return graph


@pytest.mark.parametrize('path', LIBRARY_FILES, ids=lambda p: p.name)
def test_library_diagram_is_complete(path):
    graph = check_diagram(path)
    root = graph.root
    assert root.get('exporterVersion').startswith('5.')
    assert root.nsmap.get('camunda') == NS['camunda']
    # laid out left to right: the start event is the leftmost node, an end event the rightmost
    plane = root.find('bpmndi:BPMNDiagram/bpmndi:BPMNPlane', NS)
    xs = {s.get('bpmnElement'): _bounds(s)[0] for s in plane.findall('bpmndi:BPMNShape', NS)
          if s.get('bpmnElement') in graph.nodes}
    assert min(xs, key=xs.get) in graph.starts
    assert graph.kind(max(xs, key=xs.get)) == 'endEvent'


@pytest.mark.parametrize('path', LIBRARY_FILES, ids=lambda p: p.name)
def test_vietnamese_names_are_nfc(path):
    root = _doc(path)
    names = [el.get('name') for el in root.iter() if isinstance(el.tag, str) and el.get('name')]
    names += [el.get('label') for el in root.iter(_q('camunda:formField'))]
    assert names
    for name in names:
        assert unicodedata.is_normalized('NFC', name), name
    process = root.find('bpmn:process', NS)
    assert process.get('name') and any(ord(ch) > 127 for ch in process.get('name'))
    for task in root.iter(_q('bpmn:userTask')):
        assert task.get('name'), task.get('id')


# --------------------------------------------------------------------------- flavour fixtures

@pytest.mark.parametrize('path', FLAVOUR_FILES, ids=lambda p: p.name)
def test_flavour_fixture_is_drawable(path):
    """Shape only (the lint outcomes are the linter's tests; see the fixtures' README)."""
    graph = check_diagram(path)
    for task_id in (n for n in graph.nodes if graph.kind(n) == 'userTask'):
        props = _props(graph.nodes[task_id])
        assert 'tthc.allocation' in props and props.get('tthc.role') in ROLES, task_id
    assert graph.props.get('tthc.authority') == 'chu_tich_ubnd_tinh'
    legal, target, allocated, _ = graph.budget()
    assert allocated <= target
    bypassed = graph.chairman_reachable_without_vp()
    if path.stem.endswith('_bypass'):
        assert len(bypassed) == 1
    else:
        assert path.stem.endswith('_ok') and bypassed == []


def test_flavour_fixtures_cover_three_modelers_twice():
    assert sorted(p.name for p in FLAVOUR_FILES) == sorted(
        f'{flavour}_{variant}.bpmn' for flavour in ('camunda7_modeler5', 'camunda8_zeebe', 'spiffarena')
        for variant in ('ok', 'bypass'))


def _spiff_workflow(path):
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(path))
    (process_id,) = parser.get_process_ids()
    return BpmnWorkflow(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))


def _run_spiffarena(path, plan):
    wf = _spiff_workflow(path)
    wf.do_engine_steps()
    done = []
    for task_id, data in plan:
        (task,) = [t for t in wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.name == task_id]
        task.set_data(**data)
        task.run()
        done.append(task_id)
        wf.do_engine_steps()
    assert wf.is_completed()
    return done


def test_spiffarena_fixtures_run_on_spiffworkflow():
    """The SpiffArena fixtures are executable as saved (Python conditions). The bypass fixture really
    lets a resubmission reach the Chairman without the Văn phòng — what the linter must refuse."""
    ok = FLAVOURS / 'spiffarena_ok.bpmn'
    plan = [('tiep_nhan_ho_so', {}), ('tham_dinh_ho_so', {}), ('tham_tra_van_phong', {}),
            ('chu_tich_ky', {'decision': 'return'}), ('tham_dinh_ho_so', {}), ('tham_tra_van_phong', {}),
            ('chu_tich_ky', {'decision': 'approve'}), ('phat_hanh_quyet_dinh', {}), ('tra_ket_qua', {})]
    assert _run_spiffarena(ok, plan) == [t for t, _ in plan]
    bypass = FLAVOURS / 'spiffarena_bypass.bpmn'
    plan = [('tiep_nhan_ho_so', {}), ('tham_dinh_ho_so', {}), ('tham_tra_van_phong', {}),
            ('chu_tich_ky', {'decision': 'return'}), ('hoan_thien_theo_y_kien_chu_tich', {}),
            ('chu_tich_ky', {'decision': 'approve'}), ('phat_hanh_quyet_dinh', {}), ('tra_ket_qua', {})]
    assert _run_spiffarena(bypass, plan) == [t for t, _ in plan]
