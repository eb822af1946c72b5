#include "expr/known_losses.h"

#include <array>
#include <cctype>

#include "expr/parse.h"
#include "util/check.h"

namespace autoloss::expr {

namespace {

// Focal loss with γ = 2 (SPEC.md §2): -[y(1-σ)² log σ + (1-y) σ² log(1-σ)]; α_t is applied
// outside the formula by the detector. FLI puts q = IoU·y in the positive term.
#define AUTOLOSS_FOCAL(positive)                           \
    "Neg(Add(Mul(" positive                                \
    ",Mul(Mul(Sub(1,Sig(X)),Sub(1,Sig(X))),Log(Sig(X))))," \
    "Mul(NY,Mul(Mul(Sig(X),Sig(X)),Log(Sub(1,Sig(X)))))))"

constexpr std::array<KnownLoss, 10> kKnownLosses = {{
    {"ce", SetKind::kClsMulti, "Neg(Dot(Y,Log(Softmax(X))))", "cross-entropy"},
    {"cei",
     SetKind::kClsMulti,
     "Neg(Dot(Mul(Z,Y),Log(Softmax(X))))",
     "IoU-weighted cross-entropy, the two-stage initial loss"},
    {"fl", SetKind::kClsBinary, AUTOLOSS_FOCAL("PY"), "focal loss, gamma 2"},
    {"fli",
     SetKind::kClsBinary,
     AUTOLOSS_FOCAL("Q"),
     "IoU-weighted focal loss, the one-stage initial loss"},
    {"iou", SetKind::kReg, "Sub(1,Div(I,U))", "IoU loss"},
    {"giou", SetKind::kReg, "Add(Sub(1,Div(I,U)),Div(Sub(E,U),E))", "generalized IoU loss"},
    {"cse-autoloss-a-cls",
     SetKind::kClsMulti,
     "Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))",
     "CSE-Autoloss-A classification (Faster R-CNN)"},
    {"cse-autoloss-a-reg",
     SetKind::kReg,
     "Add(1,Neg(Add(Div(I,U),Neg(Div(Add(E,Neg(Add(I,2))),E)))))",
     "CSE-Autoloss-A regression (Faster R-CNN)"},
    {"cse-autoloss-b-cls",
     SetKind::kClsBinary,
     "Neg(Add(Mul(Q,Mul(Add(1,Serf(Sig(NY))),Log(Sig(X)))),Mul(Add(Sgdf(X),Neg(Q)),"
     "Mul(Add(Add(1,Neg(Q)),Neg(Add(1,Neg(Sig(X))))),Log(Add(1,Neg(Sig(X))))))))",
     "CSE-Autoloss-B classification (FCOS)"},
    {"cse-autoloss-b-reg",
     SetKind::kReg,
     "Neg(Div(Add(Div(Neg(Add(Neg(E),Add(1,I))),Neg(Add(3,Add(2,U)))),Add(Div(E,E),"
     "Div(Neg(E),Neg(1)))),Neg(Add(Div(Neg(Add(U,Div(I,1))),Neg(3)),Neg(E)))))",
     "CSE-Autoloss-B regression (FCOS)"},
}};

#undef AUTOLOSS_FOCAL

const KnownLoss& Named(std::string_view name) {
    const KnownLoss* loss = FindKnownLoss(name);
    AUTOLOSS_CHECK(loss != nullptr, "known loss table");
    return *loss;
}

}  // namespace

Formula KnownLoss::Parsed() const {
    return Parse(prefix, set, ParseOptions{TextForm::kPrefix});
}

std::span<const KnownLoss> KnownLosses() {
    return kKnownLosses;
}

const KnownLoss* FindKnownLoss(std::string_view name) {
    for (const KnownLoss& loss : kKnownLosses) {
        if (loss.name.size() == name.size() &&
            std::equal(name.begin(), name.end(), loss.name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == b;
            })) {
            return &loss;
        }
    }
    return nullptr;
}

const KnownLoss& DefaultLoss(SetKind set) {
    switch (set) {
        case SetKind::kClsMulti:
            return Named("ce");
        case SetKind::kClsBinary:
            return Named("fl");
        case SetKind::kReg:
            return Named("giou");
    }
    return Named("giou");
}

const KnownLoss& InitialLoss(SetKind set) {
    switch (set) {
        case SetKind::kClsMulti:
            return Named("cei");
        case SetKind::kClsBinary:
            return Named("fli");
        case SetKind::kReg:
            return Named("giou");
    }
    return Named("giou");
}

}  // namespace autoloss::expr
