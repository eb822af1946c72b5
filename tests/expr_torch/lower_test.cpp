// The libtorch lowering and the evaluator against each other, against libtorch's own functions
// and autograd, against hand-written libtorch losses, and the exported PyTorch code run by
// Debian's python3-torch.

#include "expr_torch/lower.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "expr/evaluate.h"
#include "expr/known_losses.h"
#include "expr/parse.h"
#include "expr/print.h"
#include "expr/random_formula.h"
#include "expr/test_batches.h"

namespace autoloss::expr {
namespace {

using testing::RandomBatch;

std::vector<at::Tensor> Tensors(const RandomBatch& data,
                                SetKind set,
                                bool grad = false,
                                at::ScalarType dtype = at::kDouble) {
    std::vector<at::Tensor> tensors;
    for (const auto& input : data.inputs) {
        auto tensor = torch::tensor(input, torch::kDouble).to(dtype);
        if (set != SetKind::kReg) {
            tensor = tensor.reshape({data.rows, data.classes});
        }
        tensors.push_back(tensor.requires_grad_(grad));
    }
    return tensors;
}

std::vector<double> ToVector(const at::Tensor& tensor) {
    const at::Tensor flat = tensor.detach().to(torch::kDouble).contiguous().reshape({-1});
    return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

bool Close(double a, double b, double relative) {
    if (std::isnan(a) || std::isnan(b)) {
        return std::isnan(a) && std::isnan(b);
    }
    if (std::isinf(a) || std::isinf(b)) {
        return a == b;
    }
    return std::abs(a - b) <= relative * std::max(1.0, std::abs(b));
}

// Runs `script` with Debian's python3 (python3-torch is a declared dependency,
// scripts/install-deps) as `python3 run.py INPUT RESULTS`, INPUT holding `input` as JSON, and
// returns the JSON the script wrote to RESULTS; a failing script fails the test and returns
// null.
nlohmann::json RunPython(const std::string& script, const nlohmann::json& input) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("autoloss_python_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "run.py") << script;
    std::ofstream(dir / "input.json") << input.dump();
    const std::string command = "/usr/bin/python3 " + (dir / "run.py").string() + " " +
                                (dir / "input.json").string() + " " +
                                (dir / "results.json").string() + " 2>" +
                                (dir / "stderr.txt").string();
    nlohmann::json results;
    if (std::system(command.c_str()) == 0) {
        results = nlohmann::json::parse(std::ifstream(dir / "results.json"));
    } else {
        ADD_FAILURE() << "python3 failed:\n" << std::ifstream(dir / "stderr.txt").rdbuf();
    }
    std::filesystem::remove_all(dir);
    return results;
}

TEST(LowerTest, EveryOperatorMatchesLibtorchsOwnFunctions) {
    const at::Tensor x = torch::linspace(-30.0, 100.0, 2601, torch::kDouble);
    const auto values = ToVector(x);
    const std::vector<double> positive_values = ToVector(x.abs() + 1e-3);
    struct Case {
        const char* formula;
        at::Tensor expected;
        bool positive;
    };
    const at::Tensor p = x.abs() + 1e-3;
    const double sqrt_pi = std::sqrt(M_PI);
    const Case cases[] = {
        {"Neg(U)", -x, false},
        {"Abs(U)", x.abs(), false},
        {"Tanh(U)", x.tanh(), false},
        {"Relu(U)", torch::relu(x), false},
        {"Sin(U)", x.sin(), false},
        {"Cos(U)", x.cos(), false},
        {"Sig(U)", x.sigmoid(), false},
        {"Softplus(U)", torch::softplus(x), false},
        {"Exp(U)", x.clamp_max(88).exp(), false},
        {"Log(U)", (p + 1e-20).log(), true},
        {"Sqrt(U)", p.sqrt(), true},
        {"Div(U,3)", x / 3.0, false},
    };
    for (const Case& c : cases) {
        const std::vector<double>& input = c.positive ? positive_values : values;
        const Batch<double> batch{
            static_cast<int>(input.size()), 1, {input.data(), input.data(), input.data()}};
        const auto ours = Evaluate(Parse(c.formula, SetKind::kReg), batch);
        const auto theirs = ToVector(c.expected);
        for (std::size_t i = 0; i < ours.size(); ++i) {
            ASSERT_TRUE(Close(ours[i], theirs[i], 1e-14)) << c.formula << " at " << input[i];
        }
    }
    // The scaled curves, from libtorch's atan, tanh, sqrt and erf.
    const std::vector<double> row(values);
    const Batch<double> batch{
        1, static_cast<int>(row.size()), {row.data(), row.data(), row.data()}};
    const struct {
        const char* formula;
        at::Tensor expected;
    } curves[] = {
        {"Dot(Sgdf(X),Y)", (2.0 * (2.0 * (x * M_PI / 8).tanh().atan()) / M_PI + 1) / 2},
        {"Dot(Salf(X),Y)", ((x / 2) / (1 + (x / 2) * (x / 2)).sqrt() + 1) / 2},
        {"Dot(Serf(X),Y)", ((sqrt_pi / 2 * x / 2).erf() + 1) / 2},
        {"Dot(Serfc(X),Y)", 1 - ((sqrt_pi / 2 * x / 2).erf() + 1) / 2},
        {"Dot(Softmax(X),Y)", x.softmax(0)},
    };
    for (const auto& curve : curves) {
        // Dot with a one-hot Y picks out one class at a time.
        const auto expected = ToVector(curve.expected);
        for (int c = 0; c < 2601; c += 50) {
            std::vector<double> one_hot(row.size(), 0.0);
            one_hot[c] = 1.0;
            const Batch<double> picked{
                1, static_cast<int>(row.size()), {row.data(), one_hot.data(), row.data()}};
            const double ours = Evaluate(Parse(curve.formula, SetKind::kClsMulti), picked)[0];
            ASSERT_TRUE(Close(ours, expected[c], 1e-14)) << curve.formula << " at " << row[c];
        }
    }
}

// Largest magnitude any subexpression of `formula` reaches on `data`. Past about 1e6, autograd's
// chain through composite operators (Salf's t / sqrt(1 + t²), say) cancels catastrophically,
// while the evaluator uses the closed-form derivative; the two are compared below that.
double LargestIntermediate(const Formula& formula, const RandomBatch& data) {
    double largest = 0.0;
    for (int i = 0; i < formula.size(); ++i) {
        for (double v : Evaluate(formula.Subtree(i), data.View())) {
            largest = std::max(largest, std::isnan(v) ? INFINITY : std::abs(v));
        }
    }
    return largest;
}

TEST(LowerTest, LoweringMatchesTheEvaluatorAndAutogradOnRandomFormulas) {
    std::mt19937_64 rng(21);
    int compared = 0;
    for (SetKind set : testing::kAllSets) {
        for (int trial = 0; trial < 400; ++trial) {
            const Formula formula = testing::RandomFormula(set, 5, rng);
            const RandomBatch data(set, 4, 5, rng());
            const auto tensors = Tensors(data, set, /*grad=*/true);
            const at::Tensor lowered = EvaluateTorch(formula, tensors);
            const Program program(formula);
            Evaluator<double> evaluator;
            const auto ours = evaluator.Forward(program, data.View());
            const auto theirs = ToVector(lowered);
            ASSERT_EQ(ours.size(), theirs.size()) << PrintPrefix(formula);
            for (std::size_t i = 0; i < ours.size(); ++i) {
                ASSERT_TRUE(Close(ours[i], theirs[i], 1e-10))
                    << PrintPrefix(formula) << " element " << i << ": " << ours[i] << " vs "
                    << theirs[i];
            }
            if (!lowered.requires_grad() || LargestIntermediate(formula, data) > 1e6) {
                continue;  // a constant formula, or outside the well-conditioned range
            }
            const auto grads =
                torch::autograd::grad({lowered.sum()}, tensors, {}, false, false, true);
            for (std::size_t k = 0; k < tensors.size(); ++k) {
                const auto ours_grad =
                    evaluator.Backward(program, data.View(), static_cast<int>(k));
                const auto theirs_grad = grads[k].defined()
                                             ? ToVector(grads[k])
                                             : std::vector<double>(ours_grad.size(), 0.0);
                for (std::size_t i = 0; i < ours_grad.size(); ++i) {
                    ASSERT_TRUE(Close(ours_grad[i], theirs_grad[i], 1e-8))
                        << PrintPrefix(formula) << " d/d input " << k << " element " << i << ": "
                        << ours_grad[i] << " vs " << theirs_grad[i];
                    ++compared;
                }
            }
        }
    }
    EXPECT_GT(compared, 20000);
}

TEST(LowerTest, FloatEvaluatorMatchesLibtorchFloat32WhereWellConditioned) {
    // Both compute in float32 with the same formulas, overflow included; only libm vs
    // libtorch's vector math may differ by a few ulps, amplified where the function is
    // ill-conditioned, which a 1e-5 relative nudge of the inputs in double detects.
    std::mt19937_64 rng(8);
    int compared = 0;
    for (SetKind set : testing::kAllSets) {
        RandomBatch data(set, 8, 5, 31);
        RandomBatch nudged = data;
        for (std::size_t k = 0; k < data.inputs.size(); ++k) {
            for (std::size_t i = 0; i < data.inputs[k].size(); ++i) {
                data.inputs[k][i] = static_cast<float>(data.inputs[k][i]);
                nudged.inputs[k][i] = data.inputs[k][i] * (1 + 1e-5);
            }
        }
        std::vector<std::vector<float>> narrow;
        Batch<float> batch{data.rows, data.classes, {}};
        for (std::size_t k = 0; k < data.inputs.size(); ++k) {
            narrow.emplace_back(data.inputs[k].begin(), data.inputs[k].end());
            batch.inputs[k] = narrow[k].data();
        }
        const auto tensors = Tensors(data, set, false, at::kFloat);
        for (int trial = 0; trial < 400; ++trial) {
            const Formula formula = testing::RandomFormula(set, 4, rng);
            const auto ours = Evaluate(formula, batch);
            const auto theirs = ToVector(EvaluateTorch(formula, tensors));
            const auto wide = Evaluate(formula, data.View());
            const auto moved = Evaluate(formula, nudged.View());
            for (std::size_t i = 0; i < ours.size(); ++i) {
                const double scale = std::max(1.0, std::abs(wide[i]));
                if (!std::isfinite(theirs[i]) || !(std::abs(moved[i] - wide[i]) < 1e-3 * scale)) {
                    continue;
                }
                ++compared;
                ASSERT_TRUE(Close(ours[i], theirs[i], 1e-4))
                    << PrintPrefix(formula) << ": " << ours[i] << " vs " << theirs[i];
            }
        }
    }
    EXPECT_GT(compared, 5000);
}

TEST(LowerTest, PublishedFormulasEvaluateIdenticallyBothWays) {
    for (const KnownLoss& loss : KnownLosses()) {
        const RandomBatch data(loss.set, 32, 6, 4);
        const auto ours = Evaluate(loss.Parsed(), data.View());
        const auto theirs = ToVector(EvaluateTorch(loss.Parsed(), Tensors(data, loss.set)));
        for (std::size_t i = 0; i < ours.size(); ++i) {
            EXPECT_NEAR(ours[i], theirs[i], 1e-12 * std::max(1.0, std::abs(ours[i]))) << loss.name;
        }
    }
}

TEST(LowerTest, FormulasEqualHandWrittenLibtorchLosses) {
    // Cross-entropy, as torch::nn::functional::cross_entropy computes it per sample.
    const RandomBatch multi(SetKind::kClsMulti, 64, 11, 5);
    const auto m = Tensors(multi, SetKind::kClsMulti);
    const at::Tensor target = m[1].argmax(1);
    const at::Tensor ce = torch::nn::functional::cross_entropy(
        m[0], target, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    EXPECT_TRUE(torch::allclose(EvaluateTorch(FindKnownLoss("ce")->Parsed(), m), ce, 1e-6, 1e-6));

    // Focal loss with alpha_t outside the formula, normalised by positives, as torchvision's
    // sigmoid_focal_loss and the authors' wrapper compute it.
    const RandomBatch binary(SetKind::kClsBinary, 128, 7, 6);
    const auto b = Tensors(binary, SetKind::kClsBinary);
    const at::Tensor x = b[0];
    const at::Tensor y = b[2];
    const at::Tensor p = x.sigmoid();
    const at::Tensor bce =
        torch::binary_cross_entropy_with_logits(x, y, {}, {}, at::Reduction::None);
    const at::Tensor p_t = p * y + (1 - p) * (1 - y);
    const at::Tensor alpha_t = 0.25 * y + 0.75 * (1 - y);
    const at::Tensor num_positive = y.sum().clamp_min(1);
    const at::Tensor focal = (alpha_t * bce * (1 - p_t).pow(2)).sum() / num_positive;
    const at::Tensor ours =
        (alpha_t * EvaluateTorch(FindKnownLoss("fl")->Parsed(), b)).sum() / num_positive;
    EXPECT_NEAR(ours.item<double>(), focal.item<double>(), 1e-6);

    // IoU and GIoU on box pairs, as torchvision's generalized_box_iou_loss does (eps 1e-7).
    torch::manual_seed(3);
    const at::Tensor corner = torch::rand({256, 2}, torch::kDouble) * 100;
    const at::Tensor predicted =
        torch::cat({corner, corner + 1 + torch::rand({256, 2}, torch::kDouble) * 50}, 1);
    const at::Tensor shift = (torch::rand({256, 2}, torch::kDouble) - 0.5) * 40;
    const at::Tensor truth = torch::cat(
        {corner + shift, corner + shift + 1 + torch::rand({256, 2}, torch::kDouble) * 50}, 1);
    auto area = [](const at::Tensor& box) {
        return (box.select(1, 2) - box.select(1, 0)) * (box.select(1, 3) - box.select(1, 1));
    };
    const at::Tensor low = torch::max(predicted.slice(1, 0, 2), truth.slice(1, 0, 2));
    const at::Tensor high = torch::min(predicted.slice(1, 2, 4), truth.slice(1, 2, 4));
    const at::Tensor inter = (high - low).clamp_min(0).prod(1);
    const at::Tensor uni = area(predicted) + area(truth) - inter;
    const at::Tensor hull = (torch::max(predicted.slice(1, 2, 4), truth.slice(1, 2, 4)) -
                             torch::min(predicted.slice(1, 0, 2), truth.slice(1, 0, 2)))
                                .prod(1);
    const double eps = 1e-7;
    const at::Tensor iou = inter / (uni + eps);
    const at::Tensor reference_iou = 1 - iou;
    const at::Tensor reference_giou = 1 - iou + (hull - uni) / (hull + eps);
    const std::vector<at::Tensor> reg = {uni + eps, inter, hull + eps};
    EXPECT_TRUE(torch::allclose(
        EvaluateTorch(FindKnownLoss("iou")->Parsed(), reg), reference_iou, 1e-6, 1e-6));
    EXPECT_TRUE(torch::allclose(
        EvaluateTorch(FindKnownLoss("giou")->Parsed(), reg), reference_giou, 1e-6, 1e-6));
}

TEST(LowerTest, LogsOfSigmoidsAndSoftmaxKeepTheirGradientAtSaturatedLogits) {
    // Float32 logits far past where sigma rounds to 0 or 1: the focal loss through its formula
    // must still equal the BCE-based hand-written one in value and gradient, as must the
    // 1 + (-Sig) spelling of 1 - Sig, so a logit pushed there by one bad step is pulled back.
    const at::Tensor x =
        torch::tensor({-300.0f, -60.0f, -20.0f, 0.0f, 20.0f, 60.0f, 300.0f}).repeat({2, 1});
    const at::Tensor y = torch::cat({torch::ones({1, 7}), torch::zeros({1, 7})});
    const auto focal_reference = [&](const at::Tensor& logits) {
        const at::Tensor p = logits.sigmoid();
        const at::Tensor p_t = p * y + (1 - p) * (1 - y);
        return torch::binary_cross_entropy_with_logits(logits, y, {}, {}, at::Reduction::None) *
               (1 - p_t).pow(2);
    };
    for (const char* text :
         {"Neg(Add(Mul(PY,Mul(Mul(Sub(1,Sig(X)),Sub(1,Sig(X))),Log(Sig(X)))),"
          "Mul(NY,Mul(Mul(Sig(X),Sig(X)),Log(Sub(1,Sig(X)))))))",
          "Neg(Add(Mul(PY,Mul(Mul(Sub(1,Sig(X)),Sub(1,Sig(X))),Log(Sig(X)))),"
          "Mul(NY,Mul(Mul(Sig(X),Sig(X)),Log(Add(1,Neg(Sig(X))))))))"}) {
        const Formula formula = Parse(text, SetKind::kClsBinary);
        const at::Tensor ours_x = x.clone().requires_grad_(true);
        const at::Tensor reference_x = x.clone().requires_grad_(true);
        // Inputs X, Q, PY, NY, with Q = 1 on the positives.
        const std::vector<at::Tensor> inputs = {ours_x, y, y, 1 - y};
        const at::Tensor ours = EvaluateTorch(formula, inputs);
        const at::Tensor reference = focal_reference(reference_x);
        EXPECT_TRUE(torch::allclose(ours, reference, 1e-5, 1e-6)) << text << "\n" << ours;
        ours.sum().backward();
        reference.sum().backward();
        EXPECT_TRUE(torch::allclose(ours_x.grad(), reference_x.grad(), 1e-5, 1e-6))
            << text << "\n" << ours_x.grad() << "\n" << reference_x.grad();
        // The positive at -300 and the negative at +300 are the ones a stalled run leaves.
        EXPECT_LT(ours_x.grad()[0][0].item<float>(), -0.9f);
        EXPECT_GT(ours_x.grad()[1][6].item<float>(), 0.9f);
    }

    // Cross-entropy with the target class 200 below the others.
    const at::Tensor logits = torch::tensor({{-200.0f, 0.0f, 0.0f}}).requires_grad_(true);
    const at::Tensor one_hot = torch::tensor({{1.0f, 0.0f, 0.0f}});
    const std::vector<at::Tensor> inputs = {logits, one_hot, one_hot};  // X, Y, Z
    const at::Tensor ce = EvaluateTorch(FindKnownLoss("ce")->Parsed(), inputs);
    EXPECT_NEAR(ce.item<float>(), 200.0f + std::log(2.0f), 1e-3);
    ce.sum().backward();
    EXPECT_NEAR(logits.grad()[0][0].item<float>(), -1.0f, 1e-6);
}

TEST(LowerTest, ExportedPytorchCodeComputesTheSameLoss) {
    // One python3 process runs every exported function on the same inputs.
    std::mt19937_64 rng(13);
    std::vector<Formula> formulas;
    for (const KnownLoss& loss : KnownLosses()) {
        formulas.push_back(loss.Parsed());
    }
    for (SetKind set : testing::kAllSets) {
        for (int i = 0; i < 60; ++i) {
            formulas.push_back(testing::RandomFormula(set, 5, rng));
        }
    }
    nlohmann::json batches;
    for (SetKind set : testing::kAllSets) {
        const RandomBatch data(set, 5, 4, 77);
        batches[std::string(PrimitiveSet::Get(set).name())] = data.inputs;
    }
    std::ostringstream script;
    script << "import json, math, sys\nimport torch\n";
    script << "batches = json.load(open(sys.argv[1]))\nresults = []\n";
    for (std::size_t k = 0; k < formulas.size(); ++k) {
        const PrimitiveSet& set = formulas[k].primitive_set();
        script << PrintPytorch(formulas[k], "loss_" + std::to_string(k)) << "\n";
        script << "inputs = [torch.tensor(v, dtype=torch.float64)"
               << (set.kind() == SetKind::kReg ? "" : ".reshape(5, 4)") << " for v in batches['"
               << set.name() << "']]\n";
        script << "results.append([float(v) if math.isfinite(v) else None for v in loss_" << k
               << "(*inputs).reshape(-1)])\n";
    }
    script << "json.dump(results, open(sys.argv[2], 'w'))\n";
    const nlohmann::json results = RunPython(script.str(), batches);
    ASSERT_EQ(results.size(), formulas.size());
    for (std::size_t k = 0; k < formulas.size(); ++k) {
        const SetKind set = formulas[k].set();
        const RandomBatch data(set, 5, 4, 77);
        const auto ours = Evaluate(formulas[k], data.View());
        ASSERT_EQ(results[k].size(), ours.size()) << PrintPrefix(formulas[k]);
        for (std::size_t i = 0; i < ours.size(); ++i) {
            // The script writes NaN and infinities as null.
            ASSERT_EQ(results[k][i].is_null(), !std::isfinite(ours[i]))
                << PrintPrefix(formulas[k]) << ": " << results[k][i] << " vs " << ours[i];
            if (results[k][i].is_null()) {
                continue;
            }
            EXPECT_TRUE(Close(results[k][i].get<double>(), ours[i], 1e-10))
                << PrintPrefix(formulas[k]) << ": " << results[k][i] << " vs " << ours[i];
        }
    }
}

TEST(LowerTest, ExportedCodeKeepsTheGradientAtSaturatedLogits) {
    // The exported focal loss, CSE-Autoloss-B (its 1 + (-Sig) spelling) and cross-entropy, run
    // by python3-torch in float32 at logits where sigma rounds to 0 or 1, give the lowering's
    // values and gradients.
    const std::vector<std::string> names = {"fl", "cse-autoloss-b-cls", "ce"};
    const std::vector<float> logits = {-300, -60, -20, 0, 20, 60, 300, 300, -300};
    std::ostringstream script;
    script << "import json, math, sys\nimport torch\nresults = []\n";
    for (std::size_t k = 0; k < names.size(); ++k) {
        const Formula formula = FindKnownLoss(names[k])->Parsed();
        script << PrintPytorch(formula, "loss_" + std::to_string(k)) << "\n";
        script << "x = torch.tensor(json.load(open(sys.argv[1]))).reshape(3, 3)"
               << ".requires_grad_(True)\n"
               << "y = torch.eye(3)\n"
               << (formula.set() == SetKind::kClsMulti ? "loss = loss_" + std::to_string(k) +
                                                             "(x, y, y).sum()\n"
                                                       : "loss = loss_" + std::to_string(k) +
                                                             "(x, y, y, 1 - y).sum()\n")
               << "loss.backward()\n"
               << "results.append([loss.item()] + x.grad.reshape(-1).tolist())\n";
    }
    script << "json.dump(results, open(sys.argv[2], 'w'))\n";
    const nlohmann::json results = RunPython(script.str(), logits);
    ASSERT_EQ(results.size(), names.size());
    for (std::size_t k = 0; k < names.size(); ++k) {
        const Formula formula = FindKnownLoss(names[k])->Parsed();
        const at::Tensor x = torch::tensor(logits).reshape({3, 3}).requires_grad_(true);
        const at::Tensor y = torch::eye(3);
        const std::vector<at::Tensor> inputs =
            formula.set() == SetKind::kClsMulti ? std::vector<at::Tensor>{x, y, y}
                                                : std::vector<at::Tensor>{x, y, y, 1 - y};
        const at::Tensor loss = EvaluateTorch(formula, inputs).sum();
        loss.backward();
        std::vector<double> ours = {loss.item<double>()};
        for (const double g : ToVector(x.grad())) {
            ours.push_back(g);
        }
        ASSERT_EQ(results[k].size(), ours.size()) << names[k];
        for (std::size_t i = 0; i < ours.size(); ++i) {
            EXPECT_TRUE(Close(results[k][i].get<double>(), ours[i], 1e-5))
                << names[k] << " element " << i << ": " << results[k][i] << " vs " << ours[i];
        }
        // The positives at -300 are the ones a literal Log would leave without a gradient.
        EXPECT_LT(results[k][1].get<double>(), -0.2) << names[k];
    }
}

}  // namespace
}  // namespace autoloss::expr
