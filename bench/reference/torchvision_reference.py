#!/usr/bin/python3
"""torchvision's detectors trained with the recipe of configs/bccd_fcos.yaml, as a reference.

Trains a torchvision detector from scratch (default: FCOS with a ResNet-18 FPN P3-P7 and
trainable BatchNorm, the architecture of configs/bccd_fcos.yaml) on a Pascal VOC folder's train
split and scores it on the val split, so `autoloss train` can be compared with the Python stack
on the same machine, data and recipe. Writes, in --out: gt.json (the val split
as COCO instances), detections-<iteration>.json (COCO results) and log.txt (key=value lines).
Score a results file with our COCO metric (identical to pycocotools):

    autoloss eval-coco --gt OUT/gt.json --dt OUT/detections-300.json

Needs Debian's python3-torch and python3-torchvision (1.13 / 0.14); not part of the build.
With --bench it instead times training and inference on synthetic images, as
`autoloss bench train` does.
"""

import argparse
import json
import os
import random
import resource
import time
import xml.etree.ElementTree as ElementTree

import torch
import torchvision
from torchvision.models.detection import FCOS
from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
from torchvision.ops.feature_pyramid_network import LastLevelP6P7


MODELS = ("fcos_resnet18_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn")


def build_model(name, num_classes, min_size, max_size):
    """A from-scratch torchvision detector for labels 1..num_classes (0 is background)."""
    if name == "fcos_resnet18_fpn":
        # fcos_resnet50_fpn with a ResNet-18 in place of the ResNet-50.
        backbone = _resnet_fpn_extractor(torchvision.models.resnet18(), 5,
                                         returned_layers=[2, 3, 4],
                                         extra_blocks=LastLevelP6P7(256, 256))
        return FCOS(backbone, num_classes=num_classes + 1, min_size=min_size, max_size=max_size)
    # The issue-#6 speed reference; its own transform fixes the 320-pixel size.
    return torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None, weights_backbone=None, num_classes=num_classes + 1)


def read_voc_split(root, split):
    """[(image path, [[x1, y1, x2, y2], ...], [label name, ...])] of a VOC split."""
    with open(os.path.join(root, "ImageSets", "Main", split + ".txt")) as names:
        stems = [line.strip() for line in names if line.strip()]
    records = []
    for stem in stems:
        tree = ElementTree.parse(os.path.join(root, "Annotations", stem + ".xml"))
        boxes, names = [], []
        for obj in tree.findall("object"):
            box = obj.find("bndbox")
            x1, y1, x2, y2 = (float(box.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax"))
            if x2 > x1 and y2 > y1:  # zero-size boxes are dropped, as autoloss does
                boxes.append([x1, y1, x2, y2])
                names.append(obj.find("name").text.strip())
        records.append((os.path.join(root, "JPEGImages", stem + ".jpg"), boxes, names))
    return records


def coco_ground_truth(records, classes):
    images, annotations = [], []
    for index, (path, boxes, names) in enumerate(records):
        height, width = torchvision.io.read_image(path).shape[1:]
        images.append({"id": index + 1, "file_name": os.path.basename(path),
                       "width": int(width), "height": int(height)})
        for (x1, y1, x2, y2), name in zip(boxes, names):
            annotations.append({"id": len(annotations) + 1, "image_id": index + 1,
                                "category_id": classes.index(name) + 1,
                                "bbox": [x1, y1, x2 - x1, y2 - y1],
                                "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    categories = [{"id": k + 1, "name": name} for k, name in enumerate(classes)]
    return {"images": images, "annotations": annotations, "categories": categories}


def load_sample(record, classes, flip):
    path, boxes, names = record
    image = torchvision.io.read_image(path, torchvision.io.ImageReadMode.RGB).float() / 255
    target_boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    if flip:
        image = image.flip(-1)
        width = image.shape[-1]
        target_boxes = torch.stack([width - target_boxes[:, 2], target_boxes[:, 1],
                                    width - target_boxes[:, 0], target_boxes[:, 3]], 1)
    labels = torch.tensor([classes.index(n) + 1 for n in names], dtype=torch.int64)
    return image, {"boxes": target_boxes, "labels": labels}


def evaluate(model, records, out, iteration, batch):
    model.eval()
    results = []
    with torch.no_grad():
        for start in range(0, len(records), batch):
            chunk = records[start:start + batch]
            images = [torchvision.io.read_image(r[0], torchvision.io.ImageReadMode.RGB).float() / 255
                      for r in chunk]
            for offset, det in enumerate(model(images)):
                for box, score, label in zip(det["boxes"].tolist(), det["scores"].tolist(),
                                             det["labels"].tolist()):
                    results.append({"image_id": start + offset + 1, "category_id": int(label),
                                    "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]],
                                    "score": score})
    model.train()
    with open(os.path.join(out, "detections-%d.json" % iteration), "w") as f:
        json.dump(results, f)


def train(args):
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    train_records = read_voc_split(args.data, args.train_split)
    val_records = read_voc_split(args.data, args.val_split)
    classes = sorted({name for _, _, names in train_records for name in names})
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "gt.json"), "w") as f:
        json.dump(coco_ground_truth(val_records, classes), f)
    model = build_model(args.model, len(classes), args.min_size, args.max_size)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=1e-4)
    log = open(os.path.join(args.out, "log.txt"), "w")
    order = []
    window_start, window_images, train_seconds = time.time(), 0, 0.0
    for iteration in range(1, args.iterations + 1):
        alpha = min(1.0, (iteration - 1) / args.warmup)
        for group in optimizer.param_groups:
            group["lr"] = args.lr * (0.001 * (1 - alpha) + alpha)
        if len(order) < args.batch:
            epoch = list(range(len(train_records)))
            random.shuffle(epoch)
            order += epoch
        picked, order = order[:args.batch], order[args.batch:]
        samples = [load_sample(train_records[k], classes, random.random() < 0.5) for k in picked]
        losses = model([s[0] for s in samples], [s[1] for s in samples])
        total = sum(losses.values())
        optimizer.zero_grad()
        total.backward()
        if args.clip_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(params, args.clip_grad_norm)
        optimizer.step()
        window_images += args.batch
        if iteration % 10 == 0:
            seconds = time.time() - window_start
            train_seconds += seconds
            line = "iteration=%d loss=%.4f %s images_per_second=%.3f" % (
                iteration, total.item(),
                " ".join("%s=%.4f" % (k, v.item()) for k, v in losses.items()),
                window_images / seconds)
            print(line, flush=True)
            log.write(line + "\n")
            window_start, window_images = time.time(), 0
        if iteration in args.eval_at:
            start = time.time()
            evaluate(model, val_records, args.out, iteration, 4)
            line = "event=eval iteration=%d train_seconds=%.1f eval_seconds=%.1f" % (
                iteration, train_seconds, time.time() - start)
            print(line, flush=True)
            log.write(line + "\n")
            window_start = time.time()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    log.write("event=end peak_rss_gib=%.2f\n" % peak)
    print("event=end peak_rss_gib=%.2f" % peak)


def bench(args):
    """One synthetic batch reused every step, drawn as `autoloss bench train` draws it."""
    torch.manual_seed(0)
    model = build_model(args.model, 3, args.size, args.size)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, weight_decay=1e-4)
    images = [torch.randn(3, args.size, args.size) for _ in range(args.batch)]
    targets = []
    for _ in range(args.batch):
        # Eight boxes an image, 16 px to half the image a side.
        xy = torch.rand(8, 2) * (args.size / 2)
        wh = torch.rand(8, 2) * (args.size / 2 - 16) + 16
        targets.append({"boxes": torch.cat([xy, xy + wh], 1),
                        "labels": torch.randint(1, 4, (8,))})

    model.train()
    times = []
    for k in range(args.warmup_iters + args.iters):
        start = time.time()
        loss = sum(model(images, targets).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if k >= args.warmup_iters:
            times.append(time.time() - start)
    model.eval()
    infer = []
    with torch.no_grad():
        for k in range(args.warmup_iters + args.iters):
            start = time.time()
            model(images)
            if k >= args.warmup_iters:
                infer.append(time.time() - start)
    print(json.dumps({
        "train_images_per_second": args.batch * len(times) / sum(times),
        "infer_images_per_second": args.batch * len(infer) / sum(infer),
        "peak_memory_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "threads": torch.get_num_threads()}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=MODELS, default=MODELS[0])
    parser.add_argument("--data", default="data/bccd")
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--val-split", default="val")
    parser.add_argument("--out", default="runs/torchvision_reference")
    parser.add_argument("--iterations", type=int, default=600)
    parser.add_argument("--eval-at", type=int, nargs="*", default=[300, 600])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--min-size", type=int, default=320)
    parser.add_argument("--max-size", type=int, default=1333)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clip-grad-norm", type=float, default=0,
                        help="clip the gradient norm to this (0: off, as the issue's recipe)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bench", action="store_true", help="time synthetic steps instead")
    parser.add_argument("--size", type=int, default=320, help="--bench: image side")
    parser.add_argument("--iters", type=int, default=5, help="--bench: timed iterations")
    parser.add_argument("--warmup-iters", type=int, default=2, help="--bench: untimed ones")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.bench:
        bench(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
