"""The CUDA path: the same energy, training and sampling code on a GPU. These tests run where CUDA
is available (``scripts/gpu_check.sh`` runs them with ``-m gpu``); elsewhere they are skipped."""

import pytest
import torch

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.energies.gnn import GraphEnergy
from edgraph.graphs import graphs_to_edges
from edgraph.objectives import energy_discrepancy
from edgraph.perturbations import ScaledBernoulliFlip

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_energy_and_its_gradient_on_the_gpu_match_the_cpu():
    graphs = load_graphs("ego_small", "train")[:32]
    x, mask = graphs_to_edges(graphs, 18)
    torch.manual_seed(0)
    energy = GraphEnergy(18, hidden=32, layers=3)
    x_cpu = x.clone().requires_grad_()
    cpu = energy(x_cpu, mask)
    cpu.sum().backward()
    x_gpu = x.cuda().requires_grad_()
    gpu = energy.cuda()(x_gpu, mask.cuda())
    gpu.sum().backward()
    assert torch.allclose(gpu.cpu(), cpu.detach(), atol=1e-4, rtol=1e-4)
    assert torch.allclose(x_gpu.grad.cpu(), x_cpu.grad, atol=1e-4, rtol=1e-4)


def test_ed_loss_runs_on_the_gpu_with_a_gpu_generator():
    graphs = load_graphs("ego_small", "train")[:32]
    x, mask = graphs_to_edges(graphs, 18)
    energy = GraphEnergy(18, hidden=16, layers=2).cuda()
    generator = torch.Generator("cuda").manual_seed(0)
    loss = energy_discrepancy(energy, x.cuda(), ScaledBernoulliFlip(6.0, 0.2), 8, 1.0, mask.cuda(), generator)
    loss.backward()
    assert loss.device.type == "cuda" and torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in energy.parameters())


@pytest.mark.parametrize("options", [{}, {"rewire": 0.5}], ids=["defaults", "rewire"])
@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed", "16-mixed"])
def test_fit_and_sample_on_the_gpu(tmp_path, options, precision):
    graphs = load_graphs("ego_small", "train")[:64]
    model = GraphEBM(18, hidden=16, layers=2, **options)
    model.fit(graphs, tmp_path, max_steps=5, device="cuda", precision=precision, progress=False)
    assert all(torch.isfinite(p).all() for p in model.energy.parameters())
    samples = model.sample(32, seed=0, steps=20, device="cuda")
    assert len(samples) == 32 and all(g.number_of_nodes() <= 18 for g in samples)


def test_class_conditional_fit_and_guided_sampling_on_the_gpu(tmp_path):
    ego, community = load_graphs("ego_small", "train")[:32], load_graphs("community_small_gdss", "train")[:32]
    model = GraphEBM(20, hidden=16, layers=2, num_classes=2)
    model.fit(ego + community, tmp_path, labels=[0] * 32 + [1] * 32, max_steps=5, device="cuda", progress=False)
    sizes = {g.number_of_nodes() for g in community}
    samples = model.sample(32, seed=0, steps=20, device="cuda", label=1, guidance=1.0)
    assert {g.number_of_nodes() for g in samples} <= sizes
    starts = model.sample_tensors(8, seed=0, steps=0, label=1, device="cuda")  # chain starts of class 1
    assert all(n in sizes for n in starts[1].sum(1).tolist())
