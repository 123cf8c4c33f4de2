import sys
sys.argv = ["x", "community_small_gdss", "0", "4", "nopairs"]
src = open("blocks_mf.py").read()
src = src.split("t = time.perf_counter()")[0]
exec(compile(src, "b", "exec"))
torch.manual_seed(0)
model.fit(train, seed=0, progress=False, max_steps=int(6000), val_fraction=0)
net = model.sampling_energy
x, mask = model._training_tensors()
with torch.no_grad():
    enc = net.encoder(x[:3], mask[:3]); mean = enc[:, :32].chunk(2, -1)[0]
    out = net.decoder(mean)
    count, member, block, pairs = model._split(out)
    torch.set_printoptions(precision=2, sci_mode=False, linewidth=200)
    print("sigmoid L", torch.sigmoid(block[0]))
    print("pi argmax/ max", member.softmax(-1)[0].max(-1))
    n = model.config.max_nodes
    print(model.decode((edges_to_adj(x[:1], n), node_mask_from_pairs(mask[:1], n)))[0].edges())
